// Package auth is the identity edge of CarePost: it turns a bearer token into
// a carepost.Principal, and it manages the accounts behind those tokens.
//
// The same code runs in AWS and on a laptop. In AWS the tokens are Cognito ID
// tokens and the keys come from the user pool's JWKS URL; locally LocalIssuer
// stands in for Cognito, minting tokens with exactly Cognito's claim names and
// serving its own JWKS, so Verifier takes the same path in both places.
//
//   - Verifier checks an RS256 ID token (signature via JWKS, issuer, audience,
//     token_use, expiry and not-before with a minute of leeway), maps its
//     claims to a Principal and asks an optional Revoked hook whether the
//     account was disabled since the token was issued.
//   - Directory is the port for staff and patient accounts (create, disable,
//     change role, set proxy grants, read). LocalDirectory implements it in
//     memory for the dev stack and tests; package cognitodir implements it on
//     a Cognito user pool.
//
// This package never logs, and it never puts a token, a password or any part
// of them into an error: every error it returns is a *carepost.Error whose
// message is safe to show to a client and whose wrapped cause is a fixed
// sentinel, not text derived from the token.
package auth
