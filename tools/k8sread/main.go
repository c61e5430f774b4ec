// Command k8sread reads manifest streams the way `kubectl apply -f` reads them and prints, as
// JSON, the objects Kubernetes would receive. It is the oracle of pxsec's test suite: security
// invariants are asserted on this view of pxsec's output, not on PyYAML's.
//
// It mirrors k8s.io/cli-runtime/pkg/resource (kubectl apply builds with Unstructured(),
// ContinueOnError(), Flatten() and Stream()):
//
//   - StreamVisitor.Visit (visitor.go): yaml.NewYAMLOrJSONDecoder(r, 4096) from
//     k8s.io/apimachinery/pkg/util/yaml (a JSON stream if it starts with '{', otherwise
//     NewYAMLReader's "---" split + sigs.k8s.io/yaml, i.e. go-yaml, to JSON), Decode into a
//     runtime.RawExtension, bytes.TrimSpace, and skip empty and "null" documents. A stream
//     error stops the stream; what was read before it is still applied.
//   - mapper.infoForData (mapper.go) with Builder.Unstructured()'s decoder (builder.go):
//     metadataValidatingDecoder{unstructured.UnstructuredJSONScheme} (metadata_decoder.go):
//     a document without a kind, a non-object document or metadata that does not decode into
//     ObjectMeta is an error for that document.
//   - FlattenListVisitor.Visit (visitor.go): anything the decoder reads as a list (an object
//     with `items`) is replaced by its items, recursively (meta.IsListType/meta.ExtractList);
//     an item without kind or apiVersion is an error (UnstructuredObjectTyper.ObjectKinds).
//   - ContinueOnError (builder.go): errors are collected and the other objects still go to the
//     server, which is what kubectl apply does with them (apply.go: it applies every info it
//     got, then reports the errors).
//
// Not mirrored: REST mapping and client lookup (they need a cluster's discovery), OpenAPI
// validation, namespace defaulting. The view is therefore a superset of what a cluster accepts.
//
// Usage:
//
//	k8sread < stream.yaml      JSON array of the objects; on any error: message on stderr, exit 1
//	k8sread -batch < in.json   in: JSON array of base64-encoded streams; out: JSON array with,
//	                           per stream, {"docs": [...]} or {"docs": [...], "error": "..."}
//	                           (docs = what kubectl would still apply despite the error)
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// metadataOnlyObject is what metadataValidatingDecoder decodes every document into.
type metadataOnlyObject struct {
	metav1.TypeMeta   `json:""`
	metav1.ObjectMeta `json:"metadata,omitempty"`
}

// decodeDocument is infoForData's decoding step.
func decodeDocument(raw []byte) (runtime.Object, error) {
	obj, _, err := unstructured.UnstructuredJSONScheme.Decode(raw, nil, nil)
	if err != nil {
		return nil, err
	}
	if _, ok := obj.(runtime.Unstructured); ok {
		if err := utiljson.Unmarshal(raw, &metadataOnlyObject{}); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// flatten is FlattenListVisitor: the leaves of (nested) lists, or the object itself.
func flatten(obj runtime.Object) ([]runtime.Object, []error) {
	if !meta.IsListType(obj) {
		return []runtime.Object{obj}, nil
	}
	var leaves []runtime.Object
	var errs []error
	queue := []runtime.Object{obj}
	for i := 0; i < len(queue); i++ {
		cur := queue[i]
		if !meta.IsListType(cur) {
			leaves = append(leaves, cur)
			continue
		}
		items, err := meta.ExtractList(cur)
		if err != nil {
			return nil, []error{err}
		}
		queue = append(queue, items...)
	}
	var out []runtime.Object
	for _, leaf := range leaves {
		gvk := leaf.GetObjectKind().GroupVersionKind()
		switch {
		case gvk.Kind == "":
			errs = append(errs, fmt.Errorf("unable to get type info from the object: Object 'Kind' is missing in list item"))
		case gvk.Version == "":
			errs = append(errs, fmt.Errorf("unable to get type info from the object: Object 'apiVersion' is missing in list item"))
		default:
			out = append(out, leaf)
		}
	}
	return out, errs
}

// read returns the objects kubectl apply would send for one stream, and the errors it reports.
func read(stream []byte) (docs []json.RawMessage, errs []string) {
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, fmt.Sprintf("panic while decoding: %v", r))
		}
	}()
	d := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for n := 1; ; n++ {
		ext := runtime.RawExtension{}
		if err := d.Decode(&ext); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, errs
			}
			return docs, append(errs, fmt.Sprintf("error parsing document %d: %v", n, err))
		}
		ext.Raw = bytes.TrimSpace(ext.Raw)
		if len(ext.Raw) == 0 || bytes.Equal(ext.Raw, []byte("null")) {
			continue
		}
		obj, err := decodeDocument(ext.Raw)
		if err != nil {
			errs = append(errs, fmt.Sprintf("unable to decode document %d: %v", n, err))
			continue
		}
		leaves, lerrs := flatten(obj)
		for _, e := range lerrs {
			errs = append(errs, fmt.Sprintf("document %d: %v", n, e))
		}
		for _, leaf := range leaves {
			b, err := json.Marshal(leaf.(runtime.Unstructured).UnstructuredContent())
			if err != nil {
				errs = append(errs, fmt.Sprintf("document %d: %v", n, err))
				continue
			}
			docs = append(docs, b)
		}
	}
}

type result struct {
	Docs  []json.RawMessage `json:"docs"`
	Error string            `json:"error,omitempty"`
}

func main() {
	batch := len(os.Args) == 2 && os.Args[1] == "-batch"
	if len(os.Args) > 1 && !batch {
		fmt.Fprintln(os.Stderr, "usage: k8sread [-batch] < input")
		os.Exit(2)
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8sread:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if !batch {
		docs, errs := read(in)
		if len(errs) > 0 {
			fmt.Fprintln(os.Stderr, "k8sread:", strings.Join(errs, "; "))
			os.Exit(1)
		}
		if docs == nil {
			docs = []json.RawMessage{}
		}
		if err := enc.Encode(docs); err != nil {
			os.Exit(1)
		}
		return
	}
	var streams []string
	if err := json.Unmarshal(in, &streams); err != nil {
		fmt.Fprintln(os.Stderr, "k8sread -batch: input is not a JSON array of base64 strings:", err)
		os.Exit(2)
	}
	out := make([]result, len(streams))
	for i, s := range streams {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "k8sread -batch: stream %d is not base64: %v\n", i, err)
			os.Exit(2)
		}
		docs, errs := read(raw)
		if docs == nil {
			docs = []json.RawMessage{}
		}
		out[i] = result{Docs: docs, Error: strings.Join(errs, "; ")}
	}
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
