// Renku Supergraph graph model, version 1: identifiers are unique, so that
// ingesting the same document twice, even concurrently, merges instead of
// duplicating. Renku's identifiers are relative in its exports (`/<sha>#`,
// `/<sha>/<path>`), so everything that belongs to a project is keyed by
// (projectPath, id). Persons are shared across projects.
CREATE CONSTRAINT project_path IF NOT EXISTS FOR (p:Project) REQUIRE p.path IS UNIQUE;
CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE (r.projectPath, r.id) IS UNIQUE;
CREATE CONSTRAINT plan_id IF NOT EXISTS FOR (p:Plan) REQUIRE (p.projectPath, p.id) IS UNIQUE;
CREATE CONSTRAINT input_id IF NOT EXISTS FOR (a:Input) REQUIRE (a.projectPath, a.id) IS UNIQUE;
CREATE CONSTRAINT output_id IF NOT EXISTS FOR (a:Output) REQUIRE (a.projectPath, a.id) IS UNIQUE;
CREATE CONSTRAINT parameter_id IF NOT EXISTS FOR (a:Parameter) REQUIRE (a.projectPath, a.id) IS UNIQUE;
CREATE CONSTRAINT file_id IF NOT EXISTS FOR (f:File) REQUIRE (f.projectPath, f.id) IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;
CREATE CONSTRAINT schema_version_graph IF NOT EXISTS FOR (v:SchemaVersion) REQUIRE v.graph IS UNIQUE;
