import { ConfigError } from '@renku-supergraph/kit';
import fs from 'node:fs';

/** What a session may use; read from the configuration file, shown by `sessionOptions`. */
export interface ResourceClass {
  name: string;
  description: string | null;
  cpu: number;
  memoryGb: number;
  storageGb: number;
  /** Where the session opens, relative to its URL, e.g. `/lab`. */
  defaultUrl: string;
}

export interface ResourceClasses {
  classes: ResourceClass[];
  /** The class of a start that names none. */
  default: ResourceClass;
}

const setting = 'SESSIONS_RESOURCE_CLASSES_FILE';
const className = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads and checks the resource classes file (the hub's spawner reads the same file and enforces
 * what a local process can be held to). Any fault stops start-up naming the file.
 */
export function readResourceClasses(file: string): ResourceClasses {
  const fail = (problem: string): never => {
    throw new ConfigError(setting, `(${file}): ${problem}`);
  };

  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot be read as JSON: ${(error as Error).message}`);
  }
  const config = raw as { default?: unknown; classes?: unknown };
  if (!Array.isArray(config?.classes) || config.classes.length === 0) {
    fail('needs a non-empty list "classes"');
  }

  const classes = (config.classes as Record<string, unknown>[]).map((entry, index) => {
    const name = entry?.name;
    if (typeof name !== 'string' || !className.test(name)) {
      fail(`class ${index + 1} needs a name of letters, digits, ".", "_" and "-"`);
    }
    const positive = (key: string): number => {
      const value = entry[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        fail(`class ${String(name)} needs a positive number "${key}"`);
      }
      return value as number;
    };
    const defaultUrl = entry.defaultUrl;
    if (typeof defaultUrl !== 'string' || !/^\/[^\s]*$/.test(defaultUrl)) {
      fail(`class ${String(name)} needs a "defaultUrl" starting with /`);
    }
    const description = entry.description;
    if (description !== undefined && typeof description !== 'string') {
      fail(`class ${String(name)} has a "description" that is not text`);
    }
    return {
      name: name as string,
      description: (description as string | undefined) ?? null,
      cpu: positive('cpu'),
      memoryGb: positive('memoryGb'),
      storageGb: positive('storageGb'),
      defaultUrl: defaultUrl as string,
    };
  });

  const names = classes.map((resourceClass) => resourceClass.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) fail(`class ${twice} is defined twice`);
  const fallback = classes.find((resourceClass) => resourceClass.name === config.default);
  if (!fallback) fail(`"default" must name one of the classes (${names.join(', ')})`);
  return { classes, default: fallback as ResourceClass };
}
