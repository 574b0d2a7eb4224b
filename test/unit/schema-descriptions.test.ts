import { isEnumType, isInputObjectType, isInterfaceType, isIntrospectionType, isObjectType, isSpecifiedScalarType, isUnionType, type GraphQLNamedType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildBareSchema } from '../../server/schema.js';

// GraphiQL's docs and the generated client types are only as good as the schema's
// descriptions: every type, field, argument, enum value and input field has one.

function missingDescriptions(types: readonly GraphQLNamedType[], roots: ReadonlySet<string> = new Set()): string[] {
  const missing: string[] = [];
  const check = (where: string, description: string | null | undefined) => {
    if (!description?.trim()) missing.push(where);
  };
  for (const type of types) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    // type-graphql makes the root types (Query, Mutation) itself, with no way to describe them;
    // their fields are what the docs show.
    if (!roots.has(type.name)) check(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args) check(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, field.description);
    } else if (isEnumType(type)) {
      // Enum values whose name says it all (male, female) may go without; the enum itself may not.
      const described = type.getValues().filter((v) => v.description?.trim()).length;
      if (described > 0) for (const value of type.getValues()) check(`${type.name}.${value.name}`, value.description);
    } else if (isUnionType(type)) {
      // The union's own description is checked above.
    }
  }
  return missing;
}

describe('schema descriptions', () => {
  it('every type, field and argument has a description', async () => {
    const schema = await buildBareSchema();
    const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) => (t ? [t.name] : [])));
    expect(missingDescriptions(Object.values(schema.getTypeMap()), roots)).toEqual([]);
  });

  it('the walk finds what is missing', async () => {
    const { buildSchema } = await import('graphql');
    const bad = buildSchema(`"Root" type Query { "A" a(x: Int): Int  b: Int }  type T { "C" c: Int }`);
    expect(missingDescriptions(Object.values(bad.getTypeMap()))).toEqual(['Query.a(x)', 'Query.b', 'T']);
  });
});
