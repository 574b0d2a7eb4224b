import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'Relay page information.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'True when more items follow this page.' })
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: 'True when items come before this page.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of this page.' })
  startCursor?: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of this page; pass it as `after` for the next page.' })
  endCursor?: string | null;
}

/** The plain shape every connection resolver returns. */
export interface ConnectionShape<T> {
  totalCount: number;
  nodes: T[];
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/**
 * Builds the Relay connection and edge types for one node type, named `<Name>Connection`
 * and `<Name>Edge`, with a `nodes` shortcut as in GitHub's API.
 */
export function connectionOf<T extends object>(node: ClassType<T>, name: string, what: string): ClassType<ConnectionShape<T>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true, description: `One ${what} with its cursor.` })
  class Edge {
    @Field(() => String, { description: 'Opaque cursor of this item.' })
    cursor!: string;

    @Field(() => node, { description: `The ${what}.` })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true, description: `A page of ${what}s.` })
  class Connection implements ConnectionShape<T> {
    @Field(() => Int, { description: `How many ${what}s match, across every source and after de-duplication; not just this page.` })
    totalCount!: number;

    @Field(() => [node], { description: `The ${what}s of this page.` })
    nodes!: T[];

    @Field(() => [Edge], { description: `The ${what}s of this page, with cursors.` })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Where this page stands.' })
    pageInfo!: PageInfo;
  }
  return Connection;
}
