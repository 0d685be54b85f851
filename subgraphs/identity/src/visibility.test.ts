import type { Caller } from '@renku-supergraph/kit';

import { displayName, mayReadEmail } from './visibility';

const caller = (id: string, roles: string[] = []): Caller => ({
  id,
  username: id,
  roles,
  token: 'not used',
});

describe('e-mail visibility', () => {
  it('shows a user her own address', () => {
    expect(mayReadEmail(caller('ada'), 'ada')).toBe(true);
  });

  it("hides another user's address from an ordinary user", () => {
    expect(mayReadEmail(caller('ada', ['default-roles-renku']), 'bob')).toBe(false);
  });

  it('shows every address to holders of renku-admin', () => {
    expect(mayReadEmail(caller('grace', ['renku-admin']), 'bob')).toBe(true);
  });

  it('hides every address from anonymous callers', () => {
    expect(mayReadEmail(undefined, 'bob')).toBe(false);
  });
});

describe('display name', () => {
  it('joins first and last name', () => {
    expect(displayName('Ada', 'Analyst')).toBe('Ada Analyst');
  });

  it('keeps the one part given', () => {
    expect(displayName(undefined, 'Analyst')).toBe('Analyst');
  });

  it('is null when neither part has text', () => {
    expect(displayName(' ', undefined)).toBeNull();
  });
});
