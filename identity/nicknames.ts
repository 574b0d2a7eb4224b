/**
 * Given names that registration desks use for one another (formal name, nicknames and
 * common short forms), folded to upper case. A group is one person's name in different
 * forms; a name may sit in several groups (LIZ is short for ELIZABETH and LISBETH, so
 * ELIZABETH and LISBETH are not each other's nickname, but both are LIZ's).
 */
const GROUPS: readonly (readonly string[])[] = [
  ['ROBERT', 'BOB', 'BOBBY', 'ROB', 'ROBBIE', 'BERT'],
  ['WILLIAM', 'BILL', 'BILLY', 'WILL', 'WILLIE', 'LIAM'],
  ['RICHARD', 'RICK', 'RICKY', 'RICKEY', 'DICK', 'RICH'],
  ['JAMES', 'JIM', 'JIMMY', 'JAMIE'],
  ['JOHN', 'JACK', 'JOHNNY', 'JON'],
  ['JOSEPH', 'JOE', 'JOEY'],
  ['THOMAS', 'TOM', 'TOMMY'],
  ['CHARLES', 'CHARLIE', 'CHUCK', 'CHAS'],
  ['MICHAEL', 'MIKE', 'MICKEY', 'MICK'],
  ['DANIEL', 'DAN', 'DANNY'],
  ['MATTHEW', 'MATT'],
  ['PETER', 'PETE'],
  ['JACOB', 'JAKE'],
  ['BENEDICT', 'BEN'],
  ['BENJAMIN', 'BEN', 'BENNY'],
  ['ANTONIO', 'TONY'],
  ['ANTHONY', 'TONY'],
  ['DENNIS', 'DENNY'],
  ['MALCOLM', 'MALCOM', 'MAL'],
  ['MOHAMED', 'MOHAMMED', 'MUHAMMAD', 'MO'],
  ['ELISHA', 'ELI'],
  ['ELIJAH', 'ELI'],
  ['MARGARITA', 'RITA'],
  ['MARGARET', 'PEGGY', 'MAGGIE', 'MEG', 'MARGE'],
  ['ELIZABETH', 'LIZ', 'BETH', 'BETTY', 'LIZZIE', 'ELIZA'],
  ['LISBETH', 'LIZ', 'LISA'],
  ['ALFREDA', 'FREDA'],
  ['ALFRED', 'AL', 'ALFIE', 'FRED'],
  ['FREDERICK', 'FRED', 'FREDDIE'],
  ['KATHERINE', 'KATE', 'KATHY', 'KATIE', 'KAT'],
  ['CATHERINE', 'CATHY', 'CATE', 'KATE'],
  ['PATRICIA', 'PAT', 'PATTY', 'TRISH'],
  ['PATRICK', 'PAT', 'PADDY'],
  ['JENNIFER', 'JEN', 'JENNY'],
  ['SUSAN', 'SUE', 'SUSIE'],
  ['EDWARD', 'ED', 'EDDIE', 'TED', 'NED'],
  ['THEODORE', 'TED', 'TEDDY', 'THEO'],
  ['STEPHEN', 'STEVE', 'STEVIE'],
  ['STEVEN', 'STEVE'],
  ['CHRISTOPHER', 'CHRIS', 'KIT'],
  ['CHRISTINE', 'CHRIS', 'TINA'],
  ['NICHOLAS', 'NICK', 'NICKY'],
  ['ALEXANDER', 'ALEX', 'SANDY', 'AL'],
  ['ALEXANDRA', 'ALEX', 'SANDRA', 'SANDY'],
  ['SAMUEL', 'SAM', 'SAMMY'],
  ['SAMANTHA', 'SAM'],
  ['ANDREW', 'ANDY', 'DREW'],
  ['GREGORY', 'GREG'],
  ['JEFFREY', 'JEFF'],
  ['TIMOTHY', 'TIM', 'TIMMY'],
  ['KENNETH', 'KEN', 'KENNY'],
  ['RONALD', 'RON', 'RONNIE'],
  ['DONALD', 'DON', 'DONNIE'],
  ['DOUGLAS', 'DOUG'],
  ['GERALD', 'GERRY', 'JERRY'],
  ['LAWRENCE', 'LARRY'],
  ['LEONARD', 'LEN', 'LENNY', 'LEO'],
  ['RAYMOND', 'RAY'],
  ['HAROLD', 'HAL', 'HARRY'],
  ['HENRY', 'HANK', 'HARRY'],
  ['WALTER', 'WALT', 'WALLY'],
  ['EUGENE', 'GENE'],
  ['VINCENT', 'VINCE', 'VINNIE'],
  ['ZACHARY', 'ZACH', 'ZACK'],
  ['NATHANIEL', 'NATE', 'NAT'],
  ['NATHAN', 'NATE'],
  ['JOSHUA', 'JOSH'],
  ['BRADLEY', 'BRAD'],
  ['PHILIP', 'PHIL'],
  ['PHILLIP', 'PHIL'],
  ['ABRAHAM', 'ABE'],
  ['ABIGAIL', 'ABBY', 'ABBIE'],
  ['DEBORAH', 'DEB', 'DEBBIE'],
  ['REBECCA', 'BECKY', 'BECCA'],
  ['VICTORIA', 'VICKY', 'TORI'],
  ['JESSICA', 'JESS', 'JESSIE'],
  ['ELEANOR', 'ELLIE', 'NELL', 'NORA'],
  ['DOROTHY', 'DOT', 'DOTTIE'],
  ['BARBARA', 'BARB', 'BABS'],
  ['KIMBERLY', 'KIM'],
  ['PAMELA', 'PAM'],
  ['CYNTHIA', 'CINDY'],
  ['JACQUELINE', 'JACKIE'],
  ['MARY', 'MOLLY', 'POLLY', 'MAE'],
  ['JUDITH', 'JUDY'],
  ['VIRGINIA', 'GINNY', 'GINGER'],
  ['FRANCES', 'FRAN', 'FRANNIE'],
  ['FRANCIS', 'FRANK'],
  ['FRANKLIN', 'FRANK'],
  ['CLARENCE', 'CLARE'],
  ['HERBERT', 'HERB', 'BERT'],
  ['ALBERT', 'AL', 'BERT'],
  ['GEORGE', 'GEORGIE'],
  ['LOUIS', 'LOU'],
  ['LUIGI', 'LOU'],
  ['JOAQUIN', 'QUINO'],
  ['JUDSON', 'JUD'],
  ['HASSAN', 'HASSY'],
];

const BY_NAME = new Map<string, Set<string>>();
for (const group of GROUPS) {
  for (const name of group) {
    let set = BY_NAME.get(name);
    if (!set) BY_NAME.set(name, (set = new Set()));
    for (const other of group) if (other !== name) set.add(other);
  }
}

/** Whether two folded given names are forms of one name (never true for equal names: that is an exact match). */
export function areNicknames(a: string, b: string): boolean {
  return a !== b && (BY_NAME.get(a)?.has(b) ?? false);
}

/** Every other form of a folded given name (for searching the index); empty when the table has none. */
export function nameVariants(name: string): string[] {
  return [...(BY_NAME.get(name) ?? [])];
}
