import type { ProgressEvent } from './hub-client';

export type StepState = 'WAITING' | 'RUNNING' | 'DONE' | 'FAILED';

export interface SessionStep {
  step: string;
  message: string;
  state: StepState;
}

/**
 * The steps of a start, in order. `requested` is the hub's own first event; the others are the
 * `step` keys the spawner puts on its progress events (stack/jupyterhub/renku_spawner.py). Each
 * message here is for a step whose own event is not known (any more).
 */
const plan: { step: string; waiting: string; done: string }[] = [
  { step: 'requested', waiting: 'Asking the hub for a server', done: 'The hub accepted the start' },
  { step: 'checkout', waiting: 'Checking out the commit', done: 'The working folder is ready' },
  { step: 'server', waiting: 'Starting the server', done: 'The server started' },
  { step: 'connect', waiting: 'Waiting for the server to answer', done: 'The server answers' },
];

type Story =
  | { state: 'STARTING'; events: ProgressEvent[] }
  | { state: 'RUNNING' }
  | { state: 'FAILED'; failure: { message: string; step?: string } };

/** The steps of a session's start as far as its state and the hub's progress events tell. */
export function stepsOf(story: Story): SessionStep[] {
  switch (story.state) {
    case 'RUNNING':
      return plan.map(({ step, done }) => ({ step, message: done, state: 'DONE' }));

    case 'STARTING': {
      const latest = new Map<string, string>();
      let reached = 0;
      for (const event of story.events) {
        const index = plan.findIndex(({ step }) => step === (event.step ?? 'requested'));
        if (index < 0) continue;
        latest.set(plan[index].step, event.message ?? plan[index].waiting);
        reached = Math.max(reached, index);
      }
      return plan.map(({ step, waiting, done }, index) => ({
        step,
        message: latest.get(step) ?? (index < reached ? done : waiting),
        state: index < reached ? 'DONE' : index === reached ? 'RUNNING' : 'WAITING',
      }));
    }

    case 'FAILED': {
      const { message, step: failedStep } = story.failure;
      // A server that ended on its own had passed every step.
      if (failedStep === 'running') return stepsOf({ state: 'RUNNING' });
      const failedAt = plan.findIndex(({ step }) => step === failedStep);
      // Only the hub's memory of the failure is left: which step failed is not known.
      if (failedAt < 0) return [];
      return plan.slice(0, failedAt + 1).map(({ step, done }, index) => ({
        step,
        message: index === failedAt ? message : done,
        state: index === failedAt ? 'FAILED' : 'DONE',
      }));
    }
  }
}
