/**
 * A TCP proxy on loopback that can be cut off (every connection dropped, new ones refused) and
 * restored, or frozen (connections stay open and new ones are accepted, but nothing more passes:
 * a server that stopped answering).
 */
import { Effect } from "effect"
import { connect, createServer, type Server, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  readonly cut: Effect.Effect<void>
  readonly restore: Effect.Effect<void>
  readonly freeze: Effect.Effect<void>
}

export const startTcpProxy = (target: { readonly host: string; readonly port: number }) =>
  Effect.gen(function*() {
    const sockets = new Set<Socket>()
    const track = (socket: Socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
      socket.on("error", () => socket.destroy())
    }
    let server: Server | undefined
    let frozen = false
    const listen = (port: number) =>
      Effect.async<number>((resume) => {
        server = createServer((client) => {
          if (frozen) return void track(client)
          const upstream = connect(target)
          track(client)
          track(upstream)
          client.pipe(upstream).pipe(client)
          client.once("close", () => upstream.destroy())
          upstream.once("close", () => client.destroy())
        })
        server.listen(port, "127.0.0.1", () => resume(Effect.succeed((server!.address() as { port: number }).port)))
      })
    const cut = Effect.async<void>((resume) => {
      for (const socket of sockets) socket.destroy()
      server!.close(() => resume(Effect.void))
    })
    const freeze = Effect.sync(() => {
      frozen = true
      for (const socket of sockets) {
        socket.unpipe()
        socket.pause()
      }
    })
    const port = yield* Effect.acquireRelease(listen(0), () => cut)
    return { port, cut, restore: Effect.asVoid(listen(port)), freeze } satisfies TcpProxy
  })
