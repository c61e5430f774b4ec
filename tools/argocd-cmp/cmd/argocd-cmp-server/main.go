// argocd-cmp-server: the cmp-server branch of Argo CD's cmd/main.go, and nothing else. It is
// the sidecar server the repo-server talks to over a unix socket; it reads plugin.yaml from
// --config-dir-path and runs the plugin's commands.
package main

import (
	"os"

	"k8s.io/klog/v2"

	cmpserver "github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func main() {
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
	command := cmpserver.NewCommand()
	command.SilenceUsage = true
	if err := command.Execute(); err != nil {
		os.Exit(1)
	}
}
