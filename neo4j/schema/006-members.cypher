// Project membership, as GitLab knows it: (:Member {username})-[:MEMBER_OF {role}]->(:Project).
// Usernames are the same in Keycloak and GitLab (GitLab signs people in through Keycloak), so a
// verified access token's preferred_username finds its Member node. Roles: owner, maintainer,
// reader (Renku's three).
CREATE CONSTRAINT member_username IF NOT EXISTS FOR (m:Member) REQUIRE m.username IS UNIQUE;
