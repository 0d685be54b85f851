import { readUsageReporting } from './usage-reporting';

describe('GraphOS usage reporting settings', () => {
  it('are off when neither APOLLO_KEY nor APOLLO_GRAPH_REF is set', () => {
    expect(readUsageReporting({ APOLLO_USAGE_REPORTING_URL: 'http://127.0.0.1:1' })).toBe(
      undefined,
    );
  });

  it('are on with both, to Apollo unless another ingress is named', () => {
    expect(readUsageReporting({ APOLLO_KEY: 'service:k', APOLLO_GRAPH_REF: 'g@v' })).toEqual({
      key: 'service:k',
      graphRef: 'g@v',
      endpointUrl: undefined,
    });
    expect(
      readUsageReporting({
        APOLLO_KEY: 'service:k',
        APOLLO_GRAPH_REF: 'g@v',
        APOLLO_USAGE_REPORTING_URL: 'http://127.0.0.1:4999/',
      })?.endpointUrl,
    ).toBe('http://127.0.0.1:4999');
  });

  it('refuse one without the other, naming the missing setting', () => {
    expect(() => readUsageReporting({ APOLLO_KEY: 'service:k' })).toThrow(/APOLLO_GRAPH_REF/);
    expect(() => readUsageReporting({ APOLLO_GRAPH_REF: 'g@v' })).toThrow(/APOLLO_KEY/);
  });
});
