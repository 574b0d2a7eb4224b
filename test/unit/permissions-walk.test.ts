import { isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { mergeRuleMaps, ruleTree } from '../../permissions/index.js';
import { buildBareSchema } from '../../server/schema.js';

describe('permissions', () => {
  it('give every field of every object type a rule (the fallback denies, but nothing should rely on it)', async () => {
    const schema = await buildBareSchema();
    const missing: string[] = [];
    const stale: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      const rules = ruleTree[type.name];
      const typeWide = rules != null && (typeof rules !== "object" || rules.constructor !== Object);
      for (const field of Object.keys(type.getFields())) {
        if (!typeWide && !(rules && field in (rules as object))) missing.push(`${type.name}.${field}`);
      }
      if (rules && !typeWide) {
        for (const field of Object.keys(rules as object)) if (!(field in type.getFields())) stale.push(`${type.name}.${field}`);
      }
    }
    expect(missing).toEqual([]);
    expect(stale).toEqual([]);
    const typeNames = new Set(Object.keys(schema.getTypeMap()));
    expect(Object.keys(ruleTree).filter((t) => !typeNames.has(t))).toEqual([]);
  });

  it('refuse a field declared by two areas', () => {
    expect(() => mergeRuleMaps({ Query: { a: 1 } }, { Query: { a: 2 } })).toThrow('Query.a is declared twice');
  });
});
