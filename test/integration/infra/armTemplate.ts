/**
 * Just enough of the ARM template format to read what `bicep build` emits: walk nested module
 * deployments, resolve `variables('x').y` references and user-defined functions, and collect the
 * app settings a `Microsoft.Web/sites/config` resource sets. Static reading only: no expression is
 * evaluated, and anything this code cannot read is reported rather than guessed.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ArmTemplate extends JsonObject {
  $schema: string;
}

export interface ArmResource {
  /** Symbolic name (languageVersion 2.0) or array index. */
  key: string;
  type: string;
  value: JsonObject;
}

/** A template and where it sits: `[]` for main, then the module symbolic names. */
export interface PlacedTemplate {
  path: string[];
  template: ArmTemplate;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An ARM expression string: `[...]`, but not the `[[` escape of a literal bracket. */
export function isExpression(value: Json | undefined): value is string {
  return typeof value === 'string' && value.startsWith('[') && !value.startsWith('[[') && value.endsWith(']');
}

export function resourcesOf(template: ArmTemplate): ArmResource[] {
  const resources = template.resources;
  const entries: [string, Json][] = Array.isArray(resources)
    ? resources.map((r, i) => [String(i), r])
    : isObject(resources)
      ? Object.entries(resources)
      : [];
  return entries.flatMap(([key, value]) =>
    isObject(value) && typeof value.type === 'string' ? [{ key, type: value.type, value }] : [],
  );
}

/** The template and every module template nested in it, depth first. */
export function allTemplates(template: ArmTemplate, path: string[] = []): PlacedTemplate[] {
  const nested = resourcesOf(template).flatMap((r) => {
    const props = r.value.properties;
    if (r.type !== 'Microsoft.Resources/deployments' || !isObject(props) || !isObject(props.template)) {
      return [];
    }
    return allTemplates(props.template as ArmTemplate, [...path, r.key]);
  });
  return [{ path, template }, ...nested];
}

/** Every resource of `type` in any template. */
export function findResources(root: ArmTemplate, type: string): (ArmResource & PlacedTemplate)[] {
  return allTemplates(root).flatMap((placed) =>
    resourcesOf(placed.template)
      .filter((r) => r.type.toLowerCase() === type.toLowerCase())
      .map((r) => ({ ...r, ...placed })),
  );
}

const VARIABLE_REF = /variables\('([^']+)'\)((?:\.[A-Za-z_$][\w$]*)*)/g;

/** `variables('name').a.b` references in an expression, with their property paths. */
export function variableRefs(expression: string): { name: string; path: string[] }[] {
  return [...expression.matchAll(VARIABLE_REF)].map((m) => ({
    name: m[1] as string,
    path: (m[2] ?? '').split('.').filter(Boolean),
  }));
}

/** The value at `variables(name).path`, or throws when the template has no such variable. */
export function resolveVariable(template: ArmTemplate, name: string, path: string[] = []): Json {
  const variables = template.variables;
  if (!isObject(variables) || !(name in variables)) throw new Error(`no variable "${name}"`);
  let value: Json = variables[name] as Json;
  for (const key of path) {
    if (!isObject(value) || !(key in value)) return value; // a path into an expression: keep the whole
    value = value[key] as Json;
  }
  return value;
}

/**
 * Every string leaf reachable from `value`: literals, expressions, and (transitively) the values of
 * the variables those expressions reference.
 */
export function reachableStrings(template: ArmTemplate, value: Json, seen = new Set<string>()): string[] {
  if (typeof value === 'string') {
    if (!isExpression(value)) return [value];
    const out = [value];
    for (const ref of variableRefs(value)) {
      const id = `${ref.name}.${ref.path.join('.')}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(...reachableStrings(template, resolveVariable(template, ref.name, ref.path), seen));
    }
    return out;
  }
  if (Array.isArray(value)) return value.flatMap((v) => reachableStrings(template, v, seen));
  if (isObject(value)) return Object.values(value).flatMap((v) => reachableStrings(template, v, seen));
  return [];
}

/**
 * The expression with the bodies of the user-defined functions it calls (`__bicep.name(...)`)
 * appended, recursively, so a search for text such as `@Microsoft.KeyVault(` sees through them.
 */
export function expandUserFunctions(template: ArmTemplate, expression: string, depth = 0): string {
  if (depth > 10) return expression;
  const namespaces = Array.isArray(template.functions) ? template.functions : [];
  const bodies = [...expression.matchAll(/(\w+)\.(\w+)\(/g)].flatMap(([, ns, name]) => {
    const namespace = namespaces.find((n) => isObject(n) && n.namespace === ns);
    const members = isObject(namespace) && isObject(namespace.members) ? namespace.members : {};
    const fn = members[name as string];
    const body = isObject(fn) && isObject(fn.output) ? fn.output.value : undefined;
    return typeof body === 'string' ? [expandUserFunctions(template, body, depth + 1)] : [];
  });
  return [expression, ...bodies].join('\n');
}

export interface AppSetting {
  name: string;
  /** The literal value or the ARM expression that computes it. */
  value: Json;
  /** False when the setting is always present; true when an expression may leave it out. */
  conditional: boolean;
}

export interface AppSettings {
  settings: AppSetting[];
  /** Expressions that add settings whose names are computed (e.g. from a parameter). */
  computed: string[];
}

const UNION_OF_VARIABLES =
  /^\[union\(\s*(parameters\('additionalAppSettings'\)\s*,\s*)?(variables\('[^']+'\)\s*,?\s*)+\)\]$/;

/**
 * Reads the settings of an `appsettings` config resource's `properties`. Object literals and
 * `union(variables(...), ...)` of object variables are unconditional; settings reached through any
 * other expression (a filter, an `if`) are conditional; an expression that references no variable
 * object computes its setting names and is returned in `computed`.
 */
export function readAppSettings(template: ArmTemplate, properties: Json): AppSettings {
  const result: AppSettings = { settings: [], computed: [] };
  const visit = (value: Json, conditional: boolean): void => {
    if (isObject(value)) {
      for (const [name, v] of Object.entries(value)) result.settings.push({ name, value: v, conditional });
      return;
    }
    if (!isExpression(value)) throw new Error(`cannot read app settings from ${JSON.stringify(value)}`);
    const unionOfVariables = UNION_OF_VARIABLES.test(value.replace(/\s+/g, ' '));
    const refs = variableRefs(value).filter((r) => r.path.length === 0);
    const objectRefs = refs.filter((r) => {
      const v = resolveVariable(template, r.name);
      return isObject(v) || isExpression(v);
    });
    if (objectRefs.length === 0) {
      result.computed.push(value);
      return;
    }
    for (const ref of objectRefs)
      visit(resolveVariable(template, ref.name), conditional || !unionOfVariables);
  };
  visit(properties, false);
  return result;
}

/** The property value of a resource at a dotted path, e.g. `properties.filter`. */
export function at(value: Json | undefined, path: string): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}
