package storage

// ResponseHeaders are representation headers that a presigned read URL
// asks the backend to send instead of the ones it stored with the key.
// Empty fields leave the backend's header as it is.
type ResponseHeaders struct {
	ContentType        string
	ContentDisposition string
	CacheControl       string
	ContentEncoding    string
	ContentLanguage    string
}
