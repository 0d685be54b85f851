import { apiError, ErrorCode } from '@renku-supergraph/kit';
import type { Driver, ManagedTransaction } from 'neo4j-driver';

import { withSession } from './neo4j';

export type MemberRole = 'owner' | 'maintainer' | 'reader';

export interface Membership {
  username: string;
  role: MemberRole;
}

const roles: readonly string[] = ['owner', 'maintainer', 'reader'];

/** Reads `username:role` as the ingest command takes it. */
export function parseMembership(text: string): Membership {
  const [username, role = 'reader'] = text.split(':');
  if (!username || !roles.includes(role)) {
    throw apiError(
      ErrorCode.BadUserInput,
      `member "${text}" must be USERNAME or USERNAME:ROLE with ROLE one of ${roles.join(', ')}`,
    );
  }
  return { username, role: role as MemberRole };
}

/**
 * Makes `members` the project's members, in one transaction: others lose
 * their membership, so a repeated call with the same list changes nothing.
 */
export async function setMembers(
  driver: Driver,
  projectPath: string,
  members: Membership[],
): Promise<void> {
  await withSession(driver, (session) =>
    session.executeWrite((tx) => replaceMembers(tx, projectPath, members)),
  );
}

/** `setMembers` inside a transaction of the caller's, e.g. the one that records a push. */
export async function replaceMembers(
  tx: ManagedTransaction,
  projectPath: string,
  members: Membership[],
): Promise<void> {
  await tx.run(
    `MATCH (project:Project {path: $projectPath})
     OPTIONAL MATCH (member:Member)-[old:MEMBER_OF]->(project)
     WHERE NOT member.username IN $usernames
     DELETE old
     WITH DISTINCT project
     UNWIND $members AS member
     MERGE (m:Member {username: member.username})
     MERGE (m)-[r:MEMBER_OF]->(project)
     SET r.role = member.role`,
    { projectPath, members, usernames: members.map((member) => member.username) },
  );
}

/** The caller's role in a project, or null for a non-member. */
export async function roleOf(
  driver: Driver,
  username: string,
  projectPath: string,
): Promise<MemberRole | null> {
  return withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      const result = await tx.run(
        `MATCH (:Member {username: $username})-[r:MEMBER_OF]->(:Project {path: $projectPath})
         RETURN r.role AS role`,
        { username, projectPath },
      );
      return (result.records[0]?.get('role') as MemberRole | undefined) ?? null;
    }),
  );
}
