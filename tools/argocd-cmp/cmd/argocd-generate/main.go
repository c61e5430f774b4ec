// argocd-generate: asks Argo CD's repo-server code for an application's manifests, the way the
// repo-server does for a sync, and prints them. It calls the exported
// reposerver/repository.GenerateManifests with a ManifestRequest whose source names a config
// management plugin, so Argo CD's own code finds the plugin's socket under
// $ARGOCD_PLUGINSOCKFILEPATH, checks its configuration, streams the repository to it as a tar.gz,
// and post-processes what it returns (tracking labels when --app-label-key is set).
//
// Output (stdout, exit 0): {"sourceType": "...", "manifests": ["<json>", ...]}.
// Failure: Argo CD's error text on stderr, exit 1, nothing on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/reposerver/repository"
	"github.com/argoproj/argo-cd/v3/util/app/discovery"
	"github.com/argoproj/argo-cd/v3/util/cmp"
	utilio "github.com/argoproj/argo-cd/v3/util/io"
	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
)

type envFlags v1alpha1.Env

func (e *envFlags) String() string { return "" }

func (e *envFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	*e = append(*e, &v1alpha1.EnvEntry{Name: name, Value: value})
	return nil
}

// paramFlags are spec.source.plugin.parameters, each a string parameter (NAME=VALUE); Argo CD
// hands them to the plugin as ARGOCD_APP_PARAMETERS (JSON) and PARAM_<NAME>
// (ApplicationSourcePluginParameters.Environ).
type paramFlags v1alpha1.ApplicationSourcePluginParameters

func (p *paramFlags) String() string { return "" }

func (p *paramFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	*p = append(*p, v1alpha1.ApplicationSourcePluginParameter{Name: name, String_: &value})
	return nil
}

func main() {
	var env envFlags
	var params paramFlags
	repoRoot := flag.String("repo-root", "", "repository checkout (the tree streamed to the plugin)")
	path := flag.String("path", ".", "application path inside the repository (spec.source.path)")
	plugin := flag.String("plugin", "", "spec.source.plugin.name (empty: Argo CD discovers the plugin)")
	appName := flag.String("app-name", "pxsec-e2e", "application name")
	namespace := flag.String("namespace", "default", "application destination namespace")
	appLabelKey := flag.String("app-label-key", "", "tracking label key (empty: no tracking)")
	kubeVersion := flag.String("kube-version", "1.34.0", "cluster version Argo CD reports (KUBE_VERSION)")
	apiVersions := flag.String("api-versions", "", "comma-separated API versions (KUBE_API_VERSIONS)")
	timeout := flag.Duration("timeout", 2*time.Minute, "overall deadline")
	announce := flag.Bool("announce", false, "print the plugin's parameter announcement instead (as the repo-server's GetAppDetails asks it)")
	flag.Var(&env, "env", "spec.source.plugin.env entry NAME=VALUE (repeatable; Argo CD adds ARGOCD_ENV_)")
	flag.Var(&params, "param", "spec.source.plugin.parameters string entry NAME=VALUE (repeatable)")
	flag.Parse()
	if *repoRoot == "" {
		fmt.Fprintln(os.Stderr, "argocd-generate: --repo-root is required")
		os.Exit(2)
	}
	root, err := filepath.Abs(*repoRoot)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	const repoURL = "https://git.example.invalid/pxsec-e2e.git"
	var versions []string
	if *apiVersions != "" {
		versions = strings.Split(*apiVersions, ",")
	}
	q := &apiclient.ManifestRequest{
		Repo:        &v1alpha1.Repository{Repo: repoURL},
		Revision:    "HEAD",
		AppName:     *appName,
		Namespace:   *namespace,
		AppLabelKey: *appLabelKey,
		KubeVersion: *kubeVersion,
		ApiVersions: versions,
		ApplicationSource: &v1alpha1.ApplicationSource{
			RepoURL:        repoURL,
			Path:           *path,
			TargetRevision: "HEAD",
			Plugin: &v1alpha1.ApplicationSourcePlugin{Name: *plugin, Env: v1alpha1.Env(env),
				Parameters: v1alpha1.ApplicationSourcePluginParameters(params)},
		},
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	appPath := filepath.Join(root, *path)
	if *announce {
		if err := printAnnouncement(ctx, appPath, root, q); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	res, err := repository.GenerateManifests(ctx, appPath, root, "0123456789abcdef0123456789abcdef01234567", q,
		false, nil, resource.MustParse("100Mi"), utilio.NewRandomizedTempPaths(os.TempDir()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.Marshal(map[string]any{"sourceType": res.SourceType, "manifests": res.Manifests})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// printAnnouncement does what the repo-server's populatePluginAppDetails (reposerver/repository)
// does for GetAppDetails: find the plugin, stream it the repository with the same environment,
// and print the parameters it announces (JSON).
func printAnnouncement(ctx context.Context, appPath, root string, q *apiclient.ManifestRequest) error {
	env := []string{"ARGOCD_APP_NAME=" + q.AppName, "ARGOCD_APP_SOURCE_REPO_URL=" + q.Repo.Repo,
		"ARGOCD_APP_SOURCE_PATH=" + q.ApplicationSource.Path,
		"ARGOCD_APP_SOURCE_TARGET_REVISION=" + q.ApplicationSource.TargetRevision}
	for _, e := range q.ApplicationSource.Plugin.Env {
		env = append(env, "ARGOCD_ENV_"+e.Name+"="+e.Value)
	}
	params, err := q.ApplicationSource.Plugin.Parameters.Environ()
	if err != nil {
		return err
	}
	env = append(env, params...)
	conn, client, err := discovery.DetectConfigManagementPlugin(ctx, appPath, root, q.ApplicationSource.Plugin.Name, env, nil)
	if err != nil {
		return err
	}
	defer utilio.Close(conn)
	stream, err := client.GetParametersAnnouncement(ctx, grpc_retry.Disable())
	if err != nil {
		return err
	}
	if err := cmp.SendRepoStream(stream.Context(), appPath, root, stream, env, nil); err != nil {
		return err
	}
	res, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	out, err := json.Marshal(res.ParameterAnnouncements)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
