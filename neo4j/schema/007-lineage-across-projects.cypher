// Version 7: lineage that crosses projects follows a dataset's `sameAs` and `derivedFrom` to the
// dataset they name (by id, or by identifier at the end of a `.../datasets/<identifier>` link),
// and back from a dataset to the copies that name it. Text indexes serve the `ENDS WITH`.
CREATE INDEX dataset_id_lookup IF NOT EXISTS FOR (d:Dataset) ON (d.id);
CREATE INDEX dataset_derived_from IF NOT EXISTS FOR (d:Dataset) ON (d.derivedFrom);
CREATE TEXT INDEX dataset_same_as_text IF NOT EXISTS FOR (d:Dataset) ON (d.sameAs);
CREATE TEXT INDEX dataset_derived_from_text IF NOT EXISTS FOR (d:Dataset) ON (d.derivedFrom);
