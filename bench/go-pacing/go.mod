module audiosocket-bench/go-pacing

go 1.23
