package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// callJSON sends in (when not nil) as a JSON body and decodes the response
// into out (when not nil).
func (c *Client) callJSON(ctx context.Context, method, path string, query url.Values, in, out any) error {
	req := request{method: method, path: path, query: query}
	if in != nil {
		body, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		req.header = http.Header{"Content-Type": {"application/json"}}
		req.body = func() (io.Reader, error) { return bytes.NewReader(body), nil }
		req.length = int64(len(body))
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	defer drain(resp)
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode the response of %s %s: %w", method, path, err)
	}
	return nil
}

// page is the envelope of the management API's lists.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// PageOptions selects one page of a list.
type PageOptions struct {
	// Limit is the page size, from 1 to 1000. Zero uses the server's
	// default, 100.
	Limit int
	// Cursor is the NextCursor of the previous page; empty starts at the
	// beginning.
	Cursor string
}

func (o PageOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", fmt.Sprint(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	return q
}
