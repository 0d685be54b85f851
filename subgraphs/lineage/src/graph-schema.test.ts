import { readSchemaSteps, splitStatements } from './graph-schema';

describe('graph schema files', () => {
  it('are numbered, and every statement is idempotent', async () => {
    const steps = await readSchemaSteps();
    expect(steps.map((step) => step.version)).toEqual([...new Set(steps.map((s) => s.version))]);
    for (const statement of steps.flatMap((step) => step.statements)) {
      expect(statement).toMatch(/IF NOT EXISTS/);
    }
  });

  it('splits statements and drops comment lines', () => {
    expect(splitStatements('// why\nCREATE A;\n\nCREATE B;\n')).toEqual(['CREATE A', 'CREATE B']);
  });
});
