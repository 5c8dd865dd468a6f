// An echo server on the Go reference library (github.com/CyCoreSystems/audiosocket), for
// side-by-side benchmarks: each call's audio is written back as it arrives, one write per frame,
// the way the library is meant to be used. Built and run by bench/table.mjs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"

	"github.com/CyCoreSystems/audiosocket"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", listener.Addr())
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go echo(conn)
	}
}

func echo(conn net.Conn) {
	defer conn.Close()
	// Buffered reads: one syscall for a header and its payload, as any Go server would do.
	reader := bufio.NewReader(conn)
	if _, err := audiosocket.GetID(reader); err != nil {
		return
	}
	for {
		message, err := audiosocket.NextMessage(reader)
		if err != nil {
			return
		}
		switch message.Kind() {
		case audiosocket.KindHangup:
			return
		case audiosocket.KindSlin:
			if _, err := conn.Write(audiosocket.SlinMessage(message.Payload())); err != nil {
				return
			}
		}
	}
}
