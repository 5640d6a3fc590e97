// Signs with an RSA and an EC key the way a JVM service does (the keys are PKCS#8 files the
// test made), so the process holds them as BigInteger magnitudes (int[] words, most significant
// first) and in the provider's own forms. A second RSA key's numbers (hex, one per line, in a
// third file) are held only as BigIntegers, with no key object or encoding anywhere: the scan
// must discover them from the magnitudes alone. An EC key made here with KeyPairGenerator is
// kept as a service keeps its key pair, its scalar written (hex) to the private file the fourth
// argument names, for the test to know; and a second EC key's scalar and public point (hex, one
// per line, in a fifth file) are held only as BigIntegers, as an ECPoint and the BigInteger
// getS() returns, with no key object or encoding: the scan must prove the scalar from the
// magnitudes alone. A third EC key pair made with KeyPairGenerator signs a few times and its
// scalar is never read (no getS(), so no BigInteger of it: only the provider's own byte forms);
// each pair drawn prints "drawn" and its public x (hex), and the test answers "again" to draw
// another (an x in the scan's documented blind spot) or anything else to keep it. Prints
// "ready", then waits until stdin closes; the line "scalar" (sent after the dump) writes that
// pair's scalar (hex) to the private file the sixth argument names and prints "written".
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;

public class JvmSigner {
  public static void main(String[] args) throws Exception {
    PrivateKey rsa = KeyFactory.getInstance("RSA").generatePrivate(
        new PKCS8EncodedKeySpec(Files.readAllBytes(Path.of(args[0]))));
    PrivateKey ec = KeyFactory.getInstance("EC").generatePrivate(
        new PKCS8EncodedKeySpec(Files.readAllBytes(Path.of(args[1]))));
    byte[] message = "dumpguard".getBytes();
    int total = 0;
    for (int i = 0; i < 20; i++) {
      Signature r = Signature.getInstance("SHA256withRSA");
      r.initSign(rsa);
      r.update(message);
      total += r.sign().length;
      Signature e = Signature.getInstance("SHA256withECDSA");
      e.initSign(ec);
      e.update(message);
      total += e.sign().length;
    }
    java.util.List<java.math.BigInteger> blind = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[2]))) {
      if (!line.isEmpty()) blind.add(new java.math.BigInteger(line, 16));
    }
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair generated = generator.generateKeyPair();
    BigInteger generatedS = ((ECPrivateKey) generated.getPrivate()).getS();
    Files.writeString(Path.of(args[3]), generatedS.toString(16));
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    KeyPair unread;
    do {
      unread = generator.generateKeyPair();
      System.out.println("drawn " + ((ECPublicKey) unread.getPublic()).getW().getAffineX().toString(16));
      System.out.flush();
    } while ("again".equals(in.readLine()));
    for (int i = 0; i < 5; i++) {
      Signature e = Signature.getInstance("SHA256withECDSA");
      e.initSign(unread.getPrivate());
      e.update(message);
      total += e.sign().length;
    }
    List<String> point = Files.readAllLines(Path.of(args[4]));
    BigInteger heldS = new BigInteger(point.get(0), 16);
    ECPoint held = new ECPoint(new BigInteger(point.get(1), 16), new BigInteger(point.get(2), 16));
    // The numbers as the key objects hand them out, as an application reading them would.
    RSAPrivateCrtKey crt = (RSAPrivateCrtKey) rsa;
    Object[] parts = {crt.getPrimeP(), crt.getPrimeQ(), crt.getPrivateExponent(), crt.getPrimeExponentP(),
                      crt.getPrimeExponentQ(), crt.getCrtCoefficient(), ((ECPrivateKey) ec).getS(), generated,
                      generatedS, heldS, held, unread};
    System.out.println("ready");
    System.out.flush();
    for (String line; (line = in.readLine()) != null;) {
      if (line.equals("scalar")) {
        Files.writeString(Path.of(args[5]), ((ECPrivateKey) unread.getPrivate()).getS().toString(16));
        System.out.println("written");
        System.out.flush();
      }
    }
    System.out.println(total + parts.length + blind.size());
  }
}
