// Package secretstest provides an in-process Secret Manager server so that tests in any package can exercise
// secret resolution through the real Secret Manager client without Google credentials or network access.
package secretstest

import (
	"context"
	"hash/crc32"
	"net"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// NewServer starts a Secret Manager gRPC server on a loopback port that serves the given secrets and stops it when
// the test ends. Keys are full version resource names ("projects/P/secrets/S/versions/V") and values are the
// payloads; any other name is answered with codes.NotFound, as the real service does. It returns the server's
// address, for option.WithEndpoint or ClientOptions, and a function reporting how many AccessSecretVersion calls
// the server has received, so that tests can assert on caching.
func NewServer(t testing.TB, secrets map[string]string) (addr string, calls func() int) {
	t.Helper()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}

	// Copy the map so that a test mutating its own map after the call cannot race with the serving goroutines.
	srv := &server{secrets: make(map[string]string, len(secrets))}
	for name, value := range secrets {
		srv.secrets[name] = value
	}

	gs := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(gs, srv)
	go func() {
		// Serve returns an error only once the listener is closed, which Stop does at cleanup.
		_ = gs.Serve(lis)
	}()
	t.Cleanup(gs.Stop)

	return lis.Addr().String(), func() int { return int(srv.calls.Load()) }
}

// ClientOptions returns the client options that point a Secret Manager client at a server started by NewServer:
// the test server speaks plaintext and checks no credentials.
func ClientOptions(addr string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

type server struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	secrets map[string]string
	calls   atomic.Int64
}

func (s *server) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	s.calls.Add(1)

	value, ok := s.secrets[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "secret version %s not found", req.GetName())
	}

	// Send the checksum the real service sends, so that clients verifying it are exercised too.
	data := []byte(value)
	sum := int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    req.GetName(),
		Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &sum},
	}, nil
}
