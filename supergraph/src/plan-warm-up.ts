import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { Logger } from '@renku-supergraph/kit';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  specifiedRules,
  typeFromAST,
  validate,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import { createHash } from 'node:crypto';

/**
 * Marks the context of a planning run: subgraphs are not called. A symbol, so that nothing a
 * client sends can set it.
 */
const planningOnly = Symbol('planningOnly');

/** `source`, except that planning runs get an empty answer without a call. */
export function skippedWhilePlanning<TContext extends object>(
  source: GraphQLDataSource<TContext>,
): GraphQLDataSource<TContext> {
  return {
    process: (options) =>
      planningOnly in options.context ? Promise.resolve({}) : source.process(options),
  };
}

export interface WarmUpResult {
  planned: number;
  failed: number;
}

/**
 * Makes the query plans of known operations before the first request needs them: the gateway
 * plans an operation when it first runs it (a fan-out query takes a few hundred milliseconds),
 * then keeps the plan for the life of the schema. The plans are made through the gateway's own
 * executor, so they land under the key a request finds them by: the sha256 of the document, and
 * the operation's name when the request gives one. A document with one operation is planned
 * both ways, as clients may leave the name out.
 *
 * The executor checks variables before it plans, so each operation runs with placeholder values
 * for its required variables; its subgraph calls are skipped (see `skippedWhilePlanning`).
 */
export async function warmQueryPlans(
  gateway: ApolloGateway,
  schema: GraphQLSchema,
  documents: Iterable<string>,
  log: Logger,
  rules: readonly ValidationRule[] = specifiedRules,
): Promise<WarmUpResult> {
  const result: WarmUpResult = { planned: 0, failed: 0 };
  const failed = (error: unknown, why: string, operationName?: string) => {
    result.failed += 1;
    log.warn({ err: error, operationName }, `a known operation (${setting}) ${why}; not planned`);
  };
  for (const query of new Set(documents)) {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      failed(error, 'does not parse');
      continue;
    }
    // What a request would be refused for (the gateway's limits among the rules) is not planned:
    // no client can ask it, and its planning could take any time.
    const invalid = validate(schema, document, rules, { maxErrors: 1 });
    if (invalid.length > 0) {
      failed(invalid[0], 'is refused as a request would be');
      continue;
    }
    const queryHash = createHash('sha256').update(query).digest('hex');
    for (const { operation, operationName } of planKeys(document)) {
      try {
        const response = await gateway.executor({
          request: { query, operationName, variables: placeholders(schema, operation) },
          document,
          queryHash,
          operationName: operationName ?? null,
          operation,
          source: query,
          metrics: {},
          logger: log,
          schema,
          cache: undefined,
          contextValue: { [planningOnly]: true },
          context: { [planningOnly]: true },
        } as unknown as GatewayGraphQLRequestContext);
        // Refused before planning: what the executor checks first is the variables.
        if (response.errors?.some((error) => !error.path)) throw response.errors[0];
        result.planned += 1;
      } catch (error) {
        failed(error, 'could not be planned', operationName);
      }
    }
  }
  return result;
}

/** Where the known operations come from, for the warnings. */
const setting = 'WARM_UP_OPERATIONS or TRUSTED_DOCUMENTS';

/**
 * The keys a request may find an operation's plan by: its name, and no name when the document
 * holds one operation. Two operations of one name share a key: the first is planned.
 */
function planKeys(document: DocumentNode) {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION,
  );
  const keys = new Map<string | undefined, OperationDefinitionNode>();
  for (const operation of operations) {
    const names = [operation.name?.value, ...(operations.length === 1 ? [undefined] : [])];
    for (const name of names) if (!keys.has(name)) keys.set(name, operation);
  }
  return [...keys].map(([operationName, operation]) => ({ operationName, operation }));
}

/** Values for an operation's required variables that pass coercion; the rest are left out. */
function placeholders(schema: GraphQLSchema, operation: OperationDefinitionNode) {
  const values: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue || definition.type.kind !== Kind.NON_NULL_TYPE) continue;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    if (!type) throw new Error(`variable $${definition.variable.name.value} has an unknown type`);
    values[definition.variable.name.value] = placeholderOf(type);
  }
  return values;
}

function placeholderOf(type: GraphQLInputType): unknown {
  if (!isNonNullType(type)) return null;
  const inner = type.ofType;
  if (isListType(inner)) return [];
  const named = getNamedType(inner);
  if (isEnumType(named)) return named.getValues()[0]?.name;
  if (isInputObjectType(named)) {
    const fields: Record<string, unknown> = {};
    for (const field of Object.values(named.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined) {
        fields[field.name] = placeholderOf(field.type);
      }
    }
    return fields;
  }
  switch (named.name) {
    case 'Int':
    case 'Float':
      return 0;
    case 'Boolean':
      return false;
    default:
      // String, ID and the supergraph's custom scalars, which take any value in the gateway.
      return '';
  }
}
