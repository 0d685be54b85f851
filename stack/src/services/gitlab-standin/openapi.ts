import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

import { repoRoot } from '../../paths';

/** The spec the gitlab subgraph is generated from; the stand-in must answer in its shapes. */
export const vendoredSpecFile = path.join(repoRoot, 'mesh', 'openapi', 'gitlab-v4-subset.yaml');

type SchemaObject = Record<string, unknown>;

/** The HTTP methods the stand-in answers. */
export type Method = 'get' | 'put';

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, OpenApiResponse> }>>;
  components: { schemas: Record<string, SchemaObject> };
}

interface OpenApiResponse {
  content?: Record<string, { schema?: SchemaObject }>;
  headers?: Record<string, { schema?: SchemaObject }>;
}

/**
 * Checks JSON answers against the response schemas of an OpenAPI 3.0 document. OpenAPI 3.0
 * schemas are not quite JSON Schema: `nullable` becomes a `null` alternative, references to
 * `#/components/schemas` are resolved by Ajv, and annotations such as `example` are dropped.
 * `closed` also refuses properties the spec does not declare, so a misspelt field fails.
 */
export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    readonly spec: OpenApiDocument,
    private readonly options: { closed: boolean } = { closed: true },
  ) {
    this.ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addSchema({
      $id: 'components',
      definitions: Object.fromEntries(
        Object.entries(spec.components.schemas).map(([name, schema]) => [
          name,
          this.toJsonSchema(schema),
        ]),
      ),
    });
  }

  static load(file: string = vendoredSpecFile, options?: { closed: boolean }): OpenApiValidator {
    return new OpenApiValidator(parse(fs.readFileSync(file, 'utf8')) as OpenApiDocument, options);
  }

  /** The paths of the document with this method, e.g. `/api/v4/projects/{id}`. */
  paths(method: Method = 'get'): string[] {
    return Object.keys(this.spec.paths).filter((specPath) => this.spec.paths[specPath][method]);
  }

  /** The `get` paths of the document. */
  getPaths(): string[] {
    return this.paths('get');
  }

  /**
   * The problems of a JSON body as the answer of `method specPath` with this status; [] if
   * none.
   */
  check(specPath: string, status: number, body: unknown, method: Method = 'get'): string[] {
    const validate = this.validator(specPath, status, method);
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (error) =>
        `${error.instancePath || '/'} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`,
    );
  }

  /** The response headers the document declares for `GET specPath` with this status. */
  declaredHeaders(specPath: string, status: number): string[] {
    return Object.keys(this.response(specPath, status).headers ?? {});
  }

  private validator(specPath: string, status: number, method: Method): ValidateFunction {
    const key = `${method} ${specPath} ${status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const schema = this.response(specPath, status, method).content?.['application/json']?.schema;
      if (!schema) {
        throw new Error(
          `the spec gives ${method.toUpperCase()} ${specPath} ${status} no JSON schema`,
        );
      }
      validate = this.ajv.compile(this.toJsonSchema(schema));
      this.validators.set(key, validate);
    }
    return validate;
  }

  private response(specPath: string, status: number, method: Method = 'get'): OpenApiResponse {
    const operation = this.spec.paths[specPath]?.[method];
    const name = `${method.toUpperCase()} ${specPath}`;
    if (!operation) throw new Error(`the spec has no ${name}`);
    const response = operation.responses?.[String(status)];
    if (!response) throw new Error(`the spec has no answer ${status} for ${name}`);
    return response;
  }

  private toJsonSchema(schema: SchemaObject): SchemaObject {
    const converted: SchemaObject = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'example' || key === 'nullable' || key.startsWith('x-')) continue;
      if (key === '$ref') {
        converted.$ref = String(value).replace('#/components/schemas/', 'components#/definitions/');
      } else if (key === 'properties') {
        converted.properties = Object.fromEntries(
          Object.entries(value as Record<string, SchemaObject>).map(([name, property]) => [
            name,
            this.toJsonSchema(property),
          ]),
        );
      } else if (key === 'items') {
        converted.items = this.toJsonSchema(value as SchemaObject);
      } else if (key === 'allOf' || key === 'oneOf' || key === 'anyOf') {
        converted[key] = (value as SchemaObject[]).map((each) => this.toJsonSchema(each));
      } else {
        converted[key] = value;
      }
    }
    if (this.options.closed && converted.properties) converted.additionalProperties = false;
    if (schema.nullable !== true) return converted;

    // `nullable` in OpenAPI 3.0 widens `type`; with a `$ref` or `allOf` it needs an alternative.
    if (typeof converted.type === 'string' && converted.enum === undefined) {
      return { ...converted, type: [converted.type, 'null'] };
    }
    return { anyOf: [converted, { type: 'null' }] };
  }
}
