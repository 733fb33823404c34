// TLSCheck proves that keystores written by certinel work in a real JSSE
// TLS handshake: a server uses the keystore, a client trusts only the
// truststore and verifies the server's name (IP 127.0.0.1).
//
//   java TLSCheck.java KEYSTORE TRUSTSTORE PASSWORD TYPE ALIAS
//
// TYPE is JKS or PKCS12. Prints "HANDSHAKE OK ..." and exits 0 on success.
import java.io.FileInputStream;
import java.net.InetAddress;
import java.security.KeyStore;
import javax.net.ssl.*;

public class TLSCheck {
    public static void main(String[] args) throws Exception {
        char[] password = args[2].toCharArray();
        KeyStore ks = KeyStore.getInstance(args[3]);
        try (FileInputStream in = new FileInputStream(args[0])) { ks.load(in, password); }
        if (!ks.isKeyEntry(args[4])) {
            throw new IllegalStateException("no key entry with alias " + args[4]);
        }
        KeyStore ts = KeyStore.getInstance(args[3]);
        try (FileInputStream in = new FileInputStream(args[1])) { ts.load(in, password); }

        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);

        SSLContext serverCtx = SSLContext.getInstance("TLS");
        serverCtx.init(kmf.getKeyManagers(), null, null);
        SSLContext clientCtx = SSLContext.getInstance("TLS");
        clientCtx.init(null, tmf.getTrustManagers(), null);

        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (SSLServerSocket server = (SSLServerSocket) serverCtx.getServerSocketFactory().createServerSocket(0, 1, loopback)) {
            Thread t = new Thread(() -> {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.startHandshake();
                    s.getOutputStream().write(42);
                    s.getOutputStream().flush();
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            t.start();
            try (SSLSocket client = (SSLSocket) clientCtx.getSocketFactory().createSocket(loopback, server.getLocalPort())) {
                SSLParameters p = client.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                client.setSSLParameters(p);
                client.startHandshake();
                int b = client.getInputStream().read();
                SSLSession session = client.getSession();
                System.out.println("HANDSHAKE OK " + session.getProtocol() + " " + session.getCipherSuite()
                        + " peer=" + session.getPeerPrincipal() + " byte=" + b);
            }
            t.join();
        }
    }
}
