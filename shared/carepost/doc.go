// Package carepost is the domain at the centre of CarePost: threads, messages,
// principals, practices and the errors that cross the API boundary.
//
// It imports nothing from AWS. Adapters (dynamo, kmsenvelope, sqsqueue,
// sesmail, httpapi) depend on it; it never depends on them. It must never log,
// and nothing it formats into an error message may contain patient data:
// error messages are shown to clients and written to logs.
package carepost
