// Command kube-apiserver is the upstream Kubernetes API server, built from the Go module proxy
// for pxsec's end-to-end tests (see scripts/install-tools.sh). `go install
// k8s.io/kubernetes/cmd/kube-apiserver@...` refuses because k8s.io/kubernetes replaces its
// staging modules with local paths; this module pins k8s.io/kubernetes and maps each staging
// module to its published k8s.io/<name> v0.x release instead (see go.mod).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
