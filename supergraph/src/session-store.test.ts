import { MemorySessionStore } from './session-store';

describe('in-memory session store', () => {
  it('hands out copies, so that changing one does not change the session', async () => {
    const store = new MemorySessionStore();
    await store.set('k', { accessToken: 'a' }, 60);

    const read = await store.get<{ accessToken: string }>('k');
    read!.accessToken = 'changed';

    expect(await store.get('k')).toEqual({ accessToken: 'a' });
  });

  it('forgets a session once its time is up', async () => {
    const store = new MemorySessionStore();
    await store.set('k', { accessToken: 'a' }, 0);

    expect(await store.get('k')).toBeUndefined();
  });

  it('forgets a deleted session', async () => {
    const store = new MemorySessionStore();
    await store.set('k', 1, 60);
    await store.delete('k');

    expect(await store.get('k')).toBeUndefined();
  });
});
