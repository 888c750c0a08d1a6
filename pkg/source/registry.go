package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

// UserAgent is sent to registries; cmd sets it to include the version.
var UserAgent = "imgsize"

func openRegistry(ctx context.Context, s string, opts Options) (*Image, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(s, nopts...)
	if err != nil {
		return nil, errdefs.UsageError(fmt.Errorf("invalid image reference %q: %w", s, err))
	}
	ropts := RemoteOptions(ctx, opts)
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, classifyRemote(fmt.Errorf("fetching manifest of %s: %w", ref, err))
	}
	var img v1.Image
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("reading index of %s: %w", ref, err))
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, errdefs.Wrap(errdefs.ErrCorrupt, fmt.Errorf("parsing index of %s: %w", ref, err))
		}
		var images []v1.Descriptor
		for _, d := range im.Manifests {
			if d.MediaType.IsImage() && !isAttestation(d) {
				images = append(images, d)
			}
		}
		matched, err := matchPlatform(images, opts.Platform, func(d v1.Descriptor) (*v1.Platform, error) { return d.Platform, nil })
		if err != nil {
			return nil, err
		}
		img, err = idx.Image(matched[0].Digest)
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("reading image %s of %s: %w", matched[0].Digest, ref, err))
		}
	case desc.MediaType.IsImage():
		img, err = desc.Image()
		if err != nil {
			return nil, classifyRemote(fmt.Errorf("reading image %s: %w", ref, err))
		}
	default:
		return nil, errdefs.Wrap(errdefs.ErrUnsupported, fmt.Errorf("%s: unknown manifest media type %q", ref, desc.MediaType))
	}
	// Fetch manifest and config now, so every later step works on
	// metadata already in memory and errors surface here, once.
	if _, err := img.RawManifest(); err != nil {
		return nil, classifyRemote(fmt.Errorf("reading manifest of %s: %w", ref, err))
	}
	if _, err := img.RawConfigFile(); err != nil {
		return nil, classifyRemote(fmt.Errorf("reading config of %s: %w", ref, err))
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	return &Image{Transport: Registry, Name: ref.Context().Name() + "@" + d.String(), Image: img, Remote: true}, nil
}

// RemoteOptions are the go-containerregistry options every registry access
// uses: credentials, TLS policy, user agent, context.
func RemoteOptions(ctx context.Context, opts Options) []remote.Option {
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	rt := opts.Transport
	if rt == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		if opts.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
		}
		rt = t
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(rt),
		remote.WithUserAgent(UserAgent),
	}
}

// classifyRemote marks registry errors with the kind the exit code needs.
func classifyRemote(err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return errdefs.Wrap(errdefs.ErrUnauthorized, err)
		case terr.StatusCode == http.StatusNotFound:
			return errdefs.Wrap(errdefs.ErrNotFound, err)
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return errdefs.Wrap(errdefs.ErrUnauthorized, err)
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return errdefs.Wrap(errdefs.ErrNotFound, err)
			}
		}
	}
	return err
}
