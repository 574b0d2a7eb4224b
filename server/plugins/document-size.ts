import { GraphQLError, Lexer, Source, TokenKind, type Token } from 'graphql';
import { LRUCache } from 'lru-cache';
import { RequestRejectedError } from '../../errors/errors.js';

/** What {@link measureDocument} counts. */
export interface DocumentSize {
  /** Lexical tokens, up to the limit it was given plus one. */
  tokens: number;
  /** Field selections written in the document (an alias and its field are one). */
  fields: number;
}

/**
 * Counts tokens and field selections of a GraphQL document with the lexer alone: one
 * linear pass, no syntax tree. Validation costs grow faster than linearly with the fields
 * of a selection set (graphql's overlapping-fields rule compares them pairwise), so this
 * runs first and a document with too many fields never reaches validation.
 *
 * A Name token is a field when it stands in a selection set (inside braces, outside any
 * parentheses, which hold arguments and variable definitions) and is not an alias (followed
 * by `:`), a directive (after `@`), a fragment spread's name or `on` (after `...`), or a type
 * condition (after `... on`). Counting stops after `maxTokens`; the parser reports that.
 */
export function measureDocument(query: string, maxTokens: number): DocumentSize {
  const lexer = new Lexer(new Source(query));
  let tokens = 0;
  let fields = 0;
  let braces = 0;
  let parens = 0;
  let prev: Token | undefined;
  let beforePrev: Token | undefined;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > maxTokens) break;
      switch (token.kind) {
        case TokenKind.BRACE_L:
          if (parens === 0) braces++;
          break;
        case TokenKind.BRACE_R:
          if (parens === 0) braces--;
          break;
        case TokenKind.PAREN_L:
          parens++;
          break;
        case TokenKind.PAREN_R:
          parens--;
          break;
        case TokenKind.NAME:
          if (braces > 0 && parens === 0 && isFieldName(prev, beforePrev) && lexer.lookahead().kind !== TokenKind.COLON) fields++;
          break;
      }
      beforePrev = prev;
      prev = token;
    }
  } catch (err) {
    // A lexical error: the parser will report it with its position.
    if (!(err instanceof GraphQLError)) throw err;
  }
  return { tokens, fields };
}

function isFieldName(prev: Token | undefined, beforePrev: Token | undefined): boolean {
  if (!prev) return true;
  if (prev.kind === TokenKind.AT || prev.kind === TokenKind.SPREAD) return false;
  return !(prev.kind === TokenKind.NAME && prev.value === 'on' && beforePrev?.kind === TokenKind.SPREAD);
}

/**
 * Refuses a document with more than `maxFields` field selections, before it is parsed
 * and validated: GRAPHQL_VALIDATION_FAILED, HTTP 400, `extensions.limit: "fields"`.
 */
export function checkDocumentSize(query: unknown, limits: { maxFields: number; maxTokens: number }): void {
  if (typeof query !== 'string') return;
  refuseOversized(measureDocument(query, limits.maxTokens), limits);
}

function refuseOversized({ tokens, fields }: DocumentSize, limits: { maxFields: number; maxTokens: number }): void {
  // Over the token limit the parser refuses it (GRAPHQL_PARSE_FAILED), as cheaply.
  if (tokens <= limits.maxTokens && fields > limits.maxFields) {
    throw new RequestRejectedError(`Document selects ${fields} fields, at most ${limits.maxFields} allowed`, 'GRAPHQL_VALIDATION_FAILED', {
      limit: 'fields',
      max: limits.maxFields,
      actual: fields,
    });
  }
}

/** Document text kept by {@link createDocumentSizeCheck}, in characters (the texts are the keys). */
const MEASURED_TEXT_CHARS = 4 * 1024 * 1024;

/**
 * {@link checkDocumentSize} for one set of limits, remembering the size of each document
 * text it measured: clients send the same few documents over and over, and lexing one costs
 * about as much as executing a cached query. Bounded by the characters of the texts kept.
 */
export function createDocumentSizeCheck(limits: { maxFields: number; maxTokens: number }): (query: unknown) => void {
  const measured = new LRUCache<string, DocumentSize>({ maxSize: MEASURED_TEXT_CHARS, sizeCalculation: (_size, text) => Math.max(1, text.length) });
  return (query) => {
    if (typeof query !== 'string') return;
    let size = measured.get(query);
    if (!size) {
      size = measureDocument(query, limits.maxTokens);
      // A text larger than the whole cache is measured each time (lru-cache would refuse it anyway).
      if (query.length <= MEASURED_TEXT_CHARS / 4) measured.set(query, size);
    }
    refuseOversized(size, limits);
  };
}
