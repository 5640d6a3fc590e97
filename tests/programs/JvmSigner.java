// Signs with an RSA and an EC key the way a JVM service does (the keys are PKCS#8 files the
// test made), so the process holds them as BigInteger magnitudes (int[] words, most significant
// first) and in the provider's own forms. A second RSA key's numbers (hex, one per line, in a
// third file) are held only as BigIntegers, with no key object or encoding anywhere: the scan
// must discover them from the magnitudes alone. Prints "ready" and waits until stdin closes.
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;

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
    // The numbers as the key objects hand them out, as an application reading them would.
    RSAPrivateCrtKey crt = (RSAPrivateCrtKey) rsa;
    Object[] parts = {crt.getPrimeP(), crt.getPrimeQ(), crt.getPrivateExponent(), crt.getPrimeExponentP(),
                      crt.getPrimeExponentQ(), crt.getCrtCoefficient(), ((ECPrivateKey) ec).getS()};
    System.out.println("ready");
    System.out.flush();
    while (System.in.read() >= 0) {
    }
    System.out.println(total + parts.length + blind.size());
  }
}
