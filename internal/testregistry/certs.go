package testregistry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certFiles are the PEM files written by writeCerts.
type certFiles struct {
	certDir  string // holds only ca.crt
	caFile   string // certDir/ca.crt
	certFile string // server certificate
	keyFile  string // server private key
	pool     *x509.CertPool
}

// writeCerts generates a CA and a server certificate for localhost,
// 127.0.0.1 and ::1 signed by it. A real CA plus leaf is needed, not one
// self-signed certificate: skopeo (containers/image) rejects a self-signed
// leaf that is used as its own CA.
//
// ca.crt goes into a directory of its own because containers/image reads
// every *.key in a cert dir as a client key and fails when the matching
// *.cert is missing, so the server key must not sit next to it.
//
// ECDSA P-256 keys are used because generating them takes microseconds,
// whereas RSA keys take noticeable time, especially under -race.
func writeCerts(dir string) (certFiles, error) {
	now := time.Now()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certFiles{}, fmt.Errorf("generating CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "testregistry CA"},
		NotBefore:             now.Add(-time.Hour), // tolerate clock skew
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return certFiles{}, fmt.Errorf("creating CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return certFiles{}, fmt.Errorf("parsing CA certificate: %w", err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certFiles{}, fmt.Errorf("generating server key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return certFiles{}, fmt.Errorf("creating server certificate: %w", err)
	}
	leafKeyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return certFiles{}, fmt.Errorf("encoding server key: %w", err)
	}

	f := certFiles{
		certDir:  filepath.Join(dir, "certs"),
		certFile: filepath.Join(dir, "server", "registry.crt"),
		keyFile:  filepath.Join(dir, "server", "registry.key"),
		pool:     x509.NewCertPool(),
	}
	f.caFile = filepath.Join(f.certDir, "ca.crt")
	f.pool.AddCert(caCert)
	for _, w := range []struct {
		path, typ string
		der       []byte
	}{
		{f.caFile, "CERTIFICATE", caDER},
		{f.certFile, "CERTIFICATE", leafDER},
		{f.keyFile, "PRIVATE KEY", leafKeyDER},
	} {
		if err := os.MkdirAll(filepath.Dir(w.path), 0o700); err != nil {
			return certFiles{}, fmt.Errorf("creating certificate directory: %w", err)
		}
		data := pem.EncodeToMemory(&pem.Block{Type: w.typ, Bytes: w.der})
		if err := os.WriteFile(w.path, data, 0o600); err != nil {
			return certFiles{}, fmt.Errorf("writing %s: %w", filepath.Base(w.path), err)
		}
	}
	return f, nil
}

// randomSerial returns a random 128-bit serial number, so that certificates
// from different runs never share issuer and serial.
func randomSerial() *big.Int {
	// rand.Int only fails if the system random source fails, in which case
	// nothing here works anyway; crypto/rand then already crashes the program.
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n
}
