import type { Logger } from '@renku-supergraph/kit';
import type { Driver } from 'neo4j-driver';
import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';

import { withSession } from '../neo4j';
import { storeEvent } from './events';
import { parseJson, Refusal, send, type WebhookRequest } from './http';
import { hashSecret, secretMatches } from './secrets';

export interface SystemHookOptions {
  driver: Driver;
  log: Logger;
  /** GitLab's system hook secret, as configured there and in GITLAB_SYSTEM_HOOK_TOKEN. */
  token: string;
  onStored: () => void;
}

/** Member events of a project (GitLab's system hooks, "user_*_team") and of a group. */
const projectEvents = ['user_add_to_team', 'user_remove_from_team', 'user_update_for_team'];
const groupEvents = ['user_add_to_group', 'user_remove_from_group', 'user_update_for_group'];
const parallelStores = 8;

/**
 * `POST /webhooks/gitlab/system` takes GitLab's system hook. A member added, removed or given
 * another role on a project or on a group above it changes who may read a private project;
 * without this the graph would learn it only at the project's next push, and a member removed
 * in GitLab would keep reading until then. Each affected project gets a `members` event, stored
 * before the 202 like a push; the worker then reads the project's members from GitLab
 * (`members/all`, which resolves groups) and replaces the graph's. Other system events are
 * acknowledged and ignored.
 */
export function systemHookRoute(options: SystemHookOptions) {
  const { driver, log } = options;
  const tokenHash = hashSecret(options.token);

  return async (req: WebhookRequest, res: ServerResponse) => {
    const token = req.get('x-gitlab-token');
    if (!token) throw new Refusal(401, 'X-Gitlab-Token is missing');
    if (!secretMatches(token, tokenHash)) throw new Refusal(401, 'the token does not match');
    if (req.get('x-gitlab-event') !== 'System Hook') {
      throw new Refusal(400, 'only system hooks (X-Gitlab-Event: System Hook) are taken here');
    }
    const body = parseJson(req.body) as Record<string, unknown>;
    const name = body.event_name;
    if (typeof name !== 'string' || name === '') {
      throw new Refusal(400, 'the event has no event_name');
    }
    const affected = projectEvents.includes(name)
      ? await projectOf(body)
      : groupEvents.includes(name)
        ? await projectsUnder(body)
        : undefined;
    if (affected === undefined) {
      return send(res, 202, { status: 'ignored', reason: `${name} changes no membership` });
    }
    if (affected.length === 0) {
      return send(res, 202, { status: 'ignored', reason: 'no project in the graph is affected' });
    }

    // A delivery GitLab repeats has the same body: the same events, which storing finds.
    const delivery = crypto.createHash('sha256').update(req.body).digest('hex');
    // A group may hold many projects: a few stored side by side, within GitLab's hook time-out.
    const events: { id: string; duplicate: boolean }[] = [];
    for (let next = 0; next < affected.length; next += parallelStores) {
      const stored = await Promise.all(
        affected.slice(next, next + parallelStores).map((projectPath) =>
          storeEvent(driver, {
            projectPath,
            kind: 'members',
            commit: delivery,
            idempotencyKey: req.get('idempotency-key'),
          }),
        ),
      );
      events.push(...stored);
    }
    const fresh = events.filter((event) => !event.duplicate).length;
    if (fresh > 0) options.onStored();
    log.info({ event: name, projects: affected.length, fresh }, 'member event stored');
    send(res, 202, {
      status: fresh === 0 ? 'duplicate' : 'accepted',
      events: events.map((event) => event.id),
    });
  };

  /** The project a project member event names, when the graph holds it. */
  async function projectOf(body: Record<string, unknown>) {
    const path = body.project_path_with_namespace;
    if (typeof path !== 'string' || path === '') {
      throw new Refusal(400, 'the event names no project (project_path_with_namespace)');
    }
    return read(`MATCH (project:Project {path: $path}) RETURN project.path AS path`, { path });
  }

  /**
   * The projects a group member event may change: those under a namespace of that name, at any
   * depth (the event gives the group's own path, not always its full path), and those the user
   * is a member of now (a removal changes only these). Resyncing a project that did not change
   * costs one GitLab call and changes nothing.
   */
  async function projectsUnder(body: Record<string, unknown>) {
    const group = body.group_path;
    if (typeof group !== 'string' || group === '' || group.includes('/')) {
      throw new Refusal(400, 'the event names no group (group_path)');
    }
    const username = typeof body.user_username === 'string' ? body.user_username : '';
    return read(
      `MATCH (project:Project)
       WHERE project.path STARTS WITH $group + '/' OR project.path CONTAINS '/' + $group + '/'
       RETURN project.path AS path
       UNION
       MATCH (:Member {username: $username})-[:MEMBER_OF]->(project:Project)
       RETURN project.path AS path`,
      { group, username },
    );
  }

  async function read(cypher: string, parameters: Record<string, unknown>): Promise<string[]> {
    return withSession(driver, async (session) => {
      const result = await session.executeRead((tx) => tx.run(cypher, parameters));
      return result.records.map((record) => record.get('path') as string);
    });
  }
}
