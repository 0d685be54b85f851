// Version 3: datasets (renku 2.x exports), keyed like everything else in a project.
CREATE CONSTRAINT dataset_id IF NOT EXISTS FOR (d:Dataset) REQUIRE (d.projectPath, d.id) IS UNIQUE;
