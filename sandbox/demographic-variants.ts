/**
 * Small demographic differences between two hospitals' copies of one person, as real
 * registration desks produce them: a nickname in place of the given name, an address
 * from after a move.
 */

/** Formal given name -> common nickname. Looked up both ways. */
export const NICKNAMES: Readonly<Record<string, string>> = {
  Robert: 'Bob',
  William: 'Bill',
  Richard: 'Rick',
  James: 'Jim',
  John: 'Jack',
  Joseph: 'Joe',
  Thomas: 'Tom',
  Charles: 'Charlie',
  Michael: 'Mike',
  Daniel: 'Dan',
  Matthew: 'Matt',
  Peter: 'Pete',
  Jacob: 'Jake',
  Benedict: 'Ben',
  Antonio: 'Tony',
  Dennis: 'Denny',
  Malcolm: 'Mal',
  Mohamed: 'Mo',
  Elisha: 'Eli',
  Margarita: 'Rita',
  Margaret: 'Peggy',
  Elizabeth: 'Liz',
  Lisbeth: 'Liz',
  Alfreda: 'Freda',
  Katherine: 'Kate',
  Patricia: 'Pat',
  Jennifer: 'Jen',
  Susan: 'Sue',
};

const FORMAL_OF: Readonly<Record<string, string>> = Object.fromEntries(
  // Several formal names share a nickname (Liz); the first listed wins.
  Object.entries(NICKNAMES)
    .reverse()
    .map(([formal, nick]) => [nick, formal]),
);

/** The other form of a given name (formal <-> nickname), or undefined when the table has none. */
export function alternateGivenName(given: string): string | undefined {
  return NICKNAMES[given] ?? FORMAL_OF[given];
}

/** Places a moved patient may now live (Massachusetts, like the Synthea population). */
export const MOVE_DESTINATIONS: ReadonlyArray<{ city: string; postalCode: string; streets: readonly string[] }> = [
  { city: 'Boston', postalCode: '02118', streets: ['Tremont St', 'Columbus Ave', 'Washington St'] },
  { city: 'Worcester', postalCode: '01609', streets: ['Highland St', 'Salisbury St', 'Park Ave'] },
  { city: 'Springfield', postalCode: '01103', streets: ['Main St', 'State St', 'Dwight St'] },
  { city: 'Cambridge', postalCode: '02139', streets: ['Massachusetts Ave', 'Prospect St', 'Pearl St'] },
  { city: 'Lowell', postalCode: '01852', streets: ['Gorham St', 'Central St', 'Andover St'] },
  { city: 'Quincy', postalCode: '02169', streets: ['Hancock St', 'Adams St', 'Newport Ave'] },
];
