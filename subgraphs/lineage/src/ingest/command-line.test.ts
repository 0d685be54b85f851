import { buildCommandLine, commandLineFromLabel } from './command-line';

describe('buildCommandLine', () => {
  it('orders arguments by position with their prefixes and stream redirections', () => {
    const line = buildCommandLine('python src/run.py', [
      { position: 4, prefix: null, value: 'out.txt', mappedTo: 'stdout' },
      { position: 2, prefix: '--rate=', value: '0.5', mappedTo: null },
      { position: 1, prefix: null, value: 'data/in.csv', mappedTo: null },
      { position: 3, prefix: '-o ', value: 'result.csv', mappedTo: null },
      { position: 5, prefix: null, value: 'log.txt', mappedTo: 'stderr' },
      { position: 0, prefix: null, value: 'config.yml', mappedTo: 'stdin' },
    ]);
    expect(line).toBe(
      'python src/run.py < config.yml data/in.csv --rate=0.5 -o result.csv > out.txt 2> log.txt',
    );
  });

  it('puts arguments without a position last', () => {
    const line = buildCommandLine('wc', [
      { position: null, prefix: '-l', value: null, mappedTo: null },
      { position: 1, prefix: null, value: 'a.txt', mappedTo: null },
    ]);
    expect(line).toBe('wc a.txt -l');
  });
});

describe('commandLineFromLabel', () => {
  it('drops the renku run prefix of a 0.x activity label', () => {
    expect(
      commandLineFromLabel('renku run python src/clean_data.py data/zhbikes out.parquet'),
    ).toBe('python src/clean_data.py data/zhbikes out.parquet');
  });
});
