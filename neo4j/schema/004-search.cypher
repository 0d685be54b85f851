// Version 4: full-text search over the catalogue (the projects subgraph's `search`) and the
// tags of datasets (renku 0.9 metadata). The projects subgraph creates the same indexes
// itself before its first search, so it does not depend on who started first.
CREATE FULLTEXT INDEX project_search IF NOT EXISTS FOR (n:Project) ON EACH [n.name, n.slug, n.path, n.description, n.keywords];
CREATE FULLTEXT INDEX dataset_search IF NOT EXISTS FOR (n:Dataset) ON EACH [n.name, n.slug, n.description, n.keywords];
CREATE FULLTEXT INDEX plan_search IF NOT EXISTS FOR (n:Plan) ON EACH [n.name, n.command];
CREATE FULLTEXT INDEX person_search IF NOT EXISTS FOR (n:Person) ON EACH [n.name, n.affiliation];
CREATE CONSTRAINT dataset_tag_id IF NOT EXISTS FOR (t:DatasetTag) REQUIRE (t.projectPath, t.id) IS UNIQUE;
// `Dataset.usedIn` finds the copies of a dataset by these.
CREATE INDEX dataset_same_as IF NOT EXISTS FOR (d:Dataset) ON (d.sameAs);
CREATE INDEX dataset_initial_version IF NOT EXISTS FOR (d:Dataset) ON (d.initialVersion);
CREATE INDEX dataset_identifier IF NOT EXISTS FOR (d:Dataset) ON (d.identifier);
