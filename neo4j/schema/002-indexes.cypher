// Lineage is asked for by path, and every version of a path counts.
CREATE INDEX file_path IF NOT EXISTS FOR (f:File) ON (f.projectPath, f.path);
CREATE INDEX project_visibility IF NOT EXISTS FOR (p:Project) ON (p.visibility);
