import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'What a cache invalidation removed.' })
export class CacheInvalidation {
  @Field(() => Int, { description: 'Per-patient cached searches dropped; the next read of them goes to the source.' })
  searches!: number;
}
