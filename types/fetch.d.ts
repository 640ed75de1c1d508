/**
 * The DOM's BodyInit, which the generated fetch client (clients/typescript/src/generated) names; Node's fetch types
 * have it only as RequestInit's body, and we compile without the DOM library.
 */
type BodyInit = NonNullable<RequestInit["body"]>;
