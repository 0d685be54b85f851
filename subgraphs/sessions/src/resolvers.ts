import {
  DateTime,
  ErrorCode,
  apiError,
  backendError,
  type BaseContext,
} from '@renku-supergraph/kit';

import { HubError, HubUnreachable } from './hub-client';
import type { ResourceClass } from './resource-classes';
import {
  SessionError,
  SessionsUnconfigured,
  matches,
  type ProjectGuard,
  type Session,
  type SessionFilter,
  type Sessions,
} from './sessions';

export interface SessionsContext extends BaseContext {
  /** The verified caller; absent for anonymous requests. */
  caller?: { username: string };
  sessions: Sessions;
  /**
   * The caller's sessions of the projects they may see: the hub and the graph asked at most
   * once per request.
   */
  mine: () => Promise<Session[]>;
  /** Whether the caller may see a project; answers kept for this request only. */
  maySee: ProjectGuard;
}

interface StartArgs {
  project: string;
  commit: string;
  branch?: string | null;
  image?: string | null;
  resourceClass?: string | null;
  environment?: { name: string; value: string }[] | null;
}

export const resolvers = {
  DateTime,

  Query: {
    sessions: (_: unknown, filter: SessionFilter, context: SessionsContext) =>
      mineMatching(context, filter),

    session: async (_: unknown, { name }: { name: string }, context: SessionsContext) => {
      if (!context.caller) return null;
      const { username } = context.caller;
      const session = await translated(context, () =>
        context.sessions.get(username, name, context.maySee),
      );
      return session ?? null;
    },

    sessionOptions: (_: unknown, __: unknown, context: SessionsContext) => {
      const { classes, default: fallback } = context.sessions.resourceClasses;
      return { resourceClasses: classes, defaultResourceClass: fallback };
    },

    sessionLogs: async (
      _: unknown,
      { name, lines }: { name: string; lines: number },
      context: SessionsContext,
    ) => {
      if (!context.caller) return null;
      const { username } = context.caller;
      const logs = await translated(context, () =>
        context.sessions.logs(username, name, lines, context.maySee),
      );
      return logs ?? null;
    },
  },

  Mutation: {
    startSession: (_: unknown, args: StartArgs, context: SessionsContext) => {
      const { username } = signedIn(context);
      const request = {
        project: args.project,
        commit: args.commit,
        branch: args.branch ?? undefined,
        image: args.image ?? undefined,
        resourceClass: args.resourceClass ?? undefined,
        environment: args.environment ?? undefined,
      };
      return translated(context, () => context.sessions.start(username, request, context.maySee));
    },

    stopSession: async (
      _: unknown,
      { name, force }: { name: string; force: boolean },
      context: SessionsContext,
    ) => {
      const { username } = signedIn(context);
      const stopped = await translated(context, () =>
        context.sessions.stop(username, name, force, context.maySee),
      );
      if (!stopped) throw apiError(ErrorCode.NotFound, `you have no session named ${name}`);
      return true;
    },
  },

  Project: {
    __resolveReference: (reference: { path: string }) => ({ path: reference.path }),
    sessions: (project: { path: string }, _: unknown, context: SessionsContext) =>
      mineMatching(context, { project: project.path }),
  },

  Session: {
    project: (session: Session) => ({ path: session.project }),
    owner: (session: Session) => ({ username: session.owner }),
  },

  ResourceClass: {
    default: (resourceClass: ResourceClass, _: unknown, context: SessionsContext) =>
      resourceClass.name === context.sessions.resourceClasses.default.name,
  },
};

async function mineMatching(context: SessionsContext, filter: SessionFilter): Promise<Session[]> {
  if (!context.caller) return [];
  const mine = await translated(context, () => context.mine());
  return mine.filter((session) => matches(session, filter));
}

function signedIn(context: SessionsContext): { username: string } {
  if (!context.caller)
    throw apiError(ErrorCode.Unauthenticated, 'sign in to start or stop sessions');
  return context.caller;
}

/** Failures of the hub and refused requests become client errors here, and only here. */
async function translated<T>(context: SessionsContext, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SessionError) {
      const code = {
        invalid: ErrorCode.BadUserInput,
        conflict: ErrorCode.BadUserInput,
        limit: ErrorCode.Forbidden,
        notFound: ErrorCode.NotFound,
      }[error.kind];
      throw apiError(code, error.message);
    }
    if (error instanceof SessionsUnconfigured) {
      context.log.error({ err: error }, 'a sessions feature is not configured');
      throw apiError(ErrorCode.BackendUnavailable, `${error.feature} are not available here`, {
        backend: 'jupyterhub',
      });
    }
    if (error instanceof HubError || error instanceof HubUnreachable) {
      context.log.error({ err: error }, 'JupyterHub request failed');
      throw backendError('jupyterhub', error);
    }
    throw error;
  }
}
