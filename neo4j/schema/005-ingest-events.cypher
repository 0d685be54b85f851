// Version 5: webhook deliveries, stored before they are acknowledged. A delivery GitLab repeats
// carries the same Idempotency-Key, a push of the same commit the same key: both are unique, so
// a repeat can never become a second event, even when two copies arrive at once.
CREATE CONSTRAINT ingest_event_id IF NOT EXISTS FOR (e:IngestEvent) REQUIRE e.id IS UNIQUE;
CREATE CONSTRAINT ingest_event_key IF NOT EXISTS FOR (e:IngestEvent) REQUIRE e.key IS UNIQUE;
CREATE CONSTRAINT ingest_event_delivery IF NOT EXISTS FOR (e:IngestEvent) REQUIRE e.deliveryKey IS UNIQUE;
// The worker looks for work by status and due time; lineageStatus counts a project's events.
CREATE INDEX ingest_event_status IF NOT EXISTS FOR (e:IngestEvent) ON (e.status, e.nextAttemptAt);
CREATE INDEX ingest_event_project IF NOT EXISTS FOR (e:IngestEvent) ON (e.projectPath);
