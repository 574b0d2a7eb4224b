import { GraphQLError, Lexer, Source, TokenKind, type Token } from 'graphql';
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
  const { tokens, fields } = measureDocument(query, limits.maxTokens);
  // Over the token limit the parser refuses it (GRAPHQL_PARSE_FAILED), as cheaply.
  if (tokens <= limits.maxTokens && fields > limits.maxFields) {
    throw new RequestRejectedError(`Document selects ${fields} fields, at most ${limits.maxFields} allowed`, 'GRAPHQL_VALIDATION_FAILED', {
      limit: 'fields',
      max: limits.maxFields,
      actual: fields,
    });
  }
}
