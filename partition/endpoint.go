package partition

import (
	"fmt"
	"net/url"
	"strings"
)

// Endpoint is the admin API of one node.
type Endpoint struct {
	// ID is the node's raft ID; empty until it is read from the node.
	ID string
	// URL is the base URL of the node's admin API, such as
	// http://127.0.0.1:8081, without a trailing slash.
	URL string
}

// Name returns the node's ID, or its URL while the ID is unknown.
func (e Endpoint) Name() string {
	if e.ID != "" {
		return e.ID
	}
	return e.URL
}

// ParseEndpoints reads the node list given to flag: comma-separated entries,
// each either ID=URL or a bare URL whose ID the caller reads from the node.
// A URL without a scheme gets http://.
func ParseEndpoints(flag, text string) ([]Endpoint, error) {
	var out []Endpoint
	ids := make(map[string]bool)
	urls := make(map[string]bool)
	for entry := range strings.SplitSeq(text, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("%w: %s %q: an entry is empty; separate ID=URL entries with single commas",
				ErrInvalidSpec, flag, text)
		}
		ep, err := parseEndpoint(flag, entry)
		if err != nil {
			return nil, err
		}
		if ep.ID != "" && ids[ep.ID] {
			return nil, fmt.Errorf("%w: %s: node ID %s appears twice", ErrInvalidSpec, flag, ep.ID)
		}
		if urls[ep.URL] {
			return nil, fmt.Errorf("%w: %s: URL %s appears twice", ErrInvalidSpec, flag, ep.URL)
		}
		ids[ep.ID], urls[ep.URL] = true, true
		out = append(out, ep)
	}
	return out, nil
}

// parseEndpoint reads one ID=URL or URL entry. An "=" that comes before the
// URL's "://" separates the ID; node IDs cannot contain "=".
func parseEndpoint(flag, entry string) (Endpoint, error) {
	eq := strings.Index(entry, "=")
	scheme := strings.Index(entry, "://")
	if eq < 0 || (scheme >= 0 && scheme < eq) {
		u, err := NormalizeURL(entry)
		if err != nil {
			return Endpoint{}, fmt.Errorf("%w: %s: %w", ErrInvalidSpec, flag, err)
		}
		return Endpoint{URL: u}, nil
	}
	id, err := ParseNodeID(flag, entry[:eq])
	if err != nil {
		return Endpoint{}, err
	}
	u, err := NormalizeURL(entry[eq+1:])
	if err != nil {
		return Endpoint{}, fmt.Errorf("%w: %s: node %s: %w", ErrInvalidSpec, flag, id, err)
	}
	return Endpoint{ID: id, URL: u}, nil
}

// NormalizeURL checks an admin base URL and returns it in one canonical
// form: scheme http or https (http:// is added when missing), a host, and no
// path, query, fragment or user information.
func NormalizeURL(text string) (string, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return "", fmt.Errorf("the URL is empty")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("URL %q does not parse: %w", text, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("URL %q has scheme %q; use http or https", text, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("URL %q has no host", text)
	case u.User != nil:
		return "", fmt.Errorf("URL %q contains user information; pass the token with --token instead", text)
	case u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return "", fmt.Errorf("URL %q has a path, query or fragment; give the base URL such as http://127.0.0.1:8081", text)
	}
	return u.Scheme + "://" + u.Host, nil
}
