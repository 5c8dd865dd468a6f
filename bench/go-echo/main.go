// An echo server on the Go reference library (github.com/CyCoreSystems/audiosocket), for
// side-by-side benchmarks: each call's audio is written back as it arrives, one write per frame.
// By default it reads through a bufio.Reader (one read for a header and its payload); with
// -unbuffered it reads from the connection itself, as the library's own example
// (examples/playfile) does: two reads a frame, one for the header and one for the payload.
// Built and run by bench/table.mjs (engines go and go-unbuffered).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/CyCoreSystems/audiosocket"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	unbuffered := flag.Bool("unbuffered", false, "read from the connection itself, as the library's example does")
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
		go echo(conn, *unbuffered)
	}
}

func echo(conn net.Conn, unbuffered bool) {
	defer conn.Close()
	var reader io.Reader = bufio.NewReader(conn)
	if unbuffered {
		reader = conn
	}
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
