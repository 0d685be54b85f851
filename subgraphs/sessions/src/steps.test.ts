import { stepsOf } from './steps';

describe('stepsOf', () => {
  it('marks the latest step of a start in progress as running, with its own message', () => {
    const steps = stepsOf({
      state: 'STARTING',
      events: [
        { progress: 0, message: 'Server requested' },
        { progress: 20, message: 'Cloning file:///git/a.git', step: 'checkout' },
        { progress: 40, message: 'Checking out 1a2b3c', step: 'checkout' },
      ],
    });
    expect(steps).toEqual([
      { step: 'requested', message: 'Server requested', state: 'DONE' },
      { step: 'checkout', message: 'Checking out 1a2b3c', state: 'RUNNING' },
      { step: 'server', message: 'Starting the server', state: 'WAITING' },
      { step: 'connect', message: 'Waiting for the server to answer', state: 'WAITING' },
    ]);
  });

  it('ends a failed start at the step that failed', () => {
    expect(
      stepsOf({ state: 'FAILED', failure: { message: 'image is unknown', step: 'requested' } }),
    ).toEqual([{ step: 'requested', message: 'image is unknown', state: 'FAILED' }]);
  });

  it('shows every step done for a server that ended after running', () => {
    const steps = stepsOf({ state: 'FAILED', failure: { message: 'killed', step: 'running' } });
    expect(steps.map((step) => step.state)).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
  });

  it('claims no steps when only the hub remembers the failure', () => {
    expect(stepsOf({ state: 'FAILED', failure: { message: 'Spawn failed' } })).toEqual([]);
  });
});
