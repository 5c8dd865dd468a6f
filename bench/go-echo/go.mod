module audiosocket-bench/go-echo

go 1.23

require github.com/CyCoreSystems/audiosocket v0.3.0

require github.com/google/uuid v1.6.0 // indirect
