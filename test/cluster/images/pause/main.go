// The pod sandbox's process for the cluster tier: it holds the pod's namespaces and does
// nothing else, like Kubernetes' pause image. Exits on SIGINT/SIGTERM; reaps nothing
// (containers of a pod do not share its PID namespace here).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
