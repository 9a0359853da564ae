package postgres

// NewTestSchema gives the tests of package postgres_test an empty schema on
// the test server (see newSchema).
var NewTestSchema = newSchema
