import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

/** How much one operation may ask for; checked before any subgraph is called. */
export interface QueryLimits {
  /** Deepest nesting of fields. Default 15. */
  maxDepth: number;
  /** Aliased fields in one operation. Default 30. */
  maxAliases: number;
  /**
   * Estimated fields resolved: each field counts 1, times the `first` of the
   * lists above it (20 when a list field names none). Default 50000: a page of 100
   * projects with their datasets and files (about 44000) passes.
   */
  maxCost: number;
}

export const defaultLimits: QueryLimits = { maxDepth: 15, maxAliases: 30, maxCost: 50_000 };

/** What a list field returns when the query does not say `first`. */
const defaultPageSize = 20;

/**
 * Validation rules enforcing the limits. Fragments are walked where they are
 * spread, and a fragment that spreads itself is cut off (validation reports it
 * separately), so a crafted document cannot make the walk loop.
 */
export function limitRules(limits: QueryLimits) {
  return [(context: ValidationContext): ASTVisitor => checkOperation(context, limits)];
}

function checkOperation(context: ValidationContext, limits: QueryLimits): ASTVisitor {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }

  return {
    OperationDefinition(operation) {
      const schema = context.getSchema();
      const root =
        operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
      const measured = measure(operation.selectionSet, root ?? undefined, fragments, schema);
      const refuse = (message: string) =>
        context.reportError(
          // Apollo reports every validation error as GRAPHQL_VALIDATION_FAILED (HTTP 400).
          new GraphQLError(message, { nodes: [operation] }),
        );
      if (measured.depth > limits.maxDepth) {
        refuse(`the query is nested ${measured.depth} deep; at most ${limits.maxDepth} is allowed`);
      }
      if (measured.aliases > limits.maxAliases) {
        refuse(
          `the query has ${measured.aliases} aliases; at most ${limits.maxAliases} are allowed`,
        );
      }
      if (measured.cost > limits.maxCost) {
        refuse(
          `the query could resolve about ${measured.cost} fields; at most ${limits.maxCost} are ` +
            'allowed: ask for smaller pages (first) or fewer nested lists',
        );
      }
    },
  };
}

interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

/** The most a paged field returns: our connections allow `first` up to 100. */
const maxPageSize = 100;

function measure(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  schema: GraphQLSchema,
  visiting = new Set<string>(),
  /** The selection of a paged field: its `edges` and `nodes` lists hold that page. */
  page = false,
): Measure {
  const total: Measure = { depth: 0, aliases: 0, cost: 0 };
  const add = (inner: Measure, depthStep: number, multiplier: number, own: number) => {
    total.depth = Math.max(total.depth, inner.depth + depthStep);
    total.aliases += inner.aliases;
    total.cost += own + multiplier * inner.cost;
  };
  const typeNamed = (name: string | undefined) => (name ? schema.getType(name) : parent);

  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const field = fieldOf(parent, selection.name.value);
      const paged = field?.args.some((argument) => argument.name === 'first') ?? false;
      const inner = selection.selectionSet
        ? measure(
            selection.selectionSet,
            field && getNamedType(field.type),
            fragments,
            schema,
            visiting,
            paged,
          )
        : { depth: 0, aliases: 0, cost: 0 };
      add(inner, 1, field && !page ? itemsOf(field, selection) : 1, 1);
      if (selection.alias) total.aliases += 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = typeNamed(selection.typeCondition?.name.value) ?? undefined;
      add(measure(selection.selectionSet, type, fragments, schema, visiting, page), 0, 1, 0);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      const type = typeNamed(fragment.typeCondition.name.value) ?? undefined;
      add(measure(fragment.selectionSet, type, fragments, schema, visiting, page), 0, 1, 0);
      visiting.delete(name);
    }
  }
  return total;
}

function fieldOf(type: GraphQLNamedType | undefined, name: string) {
  return type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[name] : undefined;
}

/**
 * How many items a field may return: a paged field its `first` (a variable
 * counts as the largest page, since validation runs before variables are
 * known), any other list a default page, everything else one.
 */
function itemsOf(field: GraphQLField<unknown, unknown>, node: FieldNode): number {
  const first = field.args.find((argument) => argument.name === 'first');
  if (first) {
    const given = node.arguments?.find((argument) => argument.name.value === 'first');
    if (!given)
      return typeof first.defaultValue === 'number' ? first.defaultValue : defaultPageSize;
    if (given.value.kind === Kind.INT) return Math.max(1, Number(given.value.value));
    return maxPageSize;
  }
  return isListType(getNullableType(field.type)) ? defaultPageSize : 1;
}
