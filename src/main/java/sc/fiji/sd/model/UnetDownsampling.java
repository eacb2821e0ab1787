package sc.fiji.sd.model;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much a UNet shrinks its input, read from its ONNX graph: the product of the strides of its strided
 * convolutions (a diffusers UNet has one stride-2 {@code downsamplers} convolution per down block but the last, so
 * SD 1.5's four blocks give 8). Image sizes must be multiples of 8 (the VAE) times this.
 * <p>
 * Why read the graph: exports without {@code unet/config.json} say nothing else about it, and the input shapes are
 * dynamic. The file is read as protobuf wire format, only as far as the node list needs: {@code ModelProto.graph}
 * (field 7) → {@code GraphProto.node} (1) → {@code NodeProto.op_type} (4) and {@code attribute} (5) →
 * {@code AttributeProto.name} (1), {@code ints} (8); everything else, the weights included, is skipped unread.
 */
final class UnetDownsampling {

	/** Convolutions that shrink by their strides; ConvTranspose (up-sampling) is not one of them. */
	private static final java.util.Set<String> CONVOLUTIONS = java.util.Set.of("Conv", "FusedConv", "NhwcConv",
		"QLinearConv", "ConvInteger");

	private final InputStream in;
	private long position;
	private int convolutions;
	private long factor = 1;

	private UnetDownsampling(InputStream in) {
		this.in = in;
	}

	/**
	 * The UNet's total down-sampling factor (1, 2, 4, 8…), or −1 when the graph has no convolution at all or cannot
	 * be read (then the caller keeps its default).
	 */
	static int of(Path unetOnnx) {
		try (InputStream in = new BufferedInputStream(Files.newInputStream(unetOnnx), 1 << 16)) {
			UnetDownsampling scan = new UnetDownsampling(in);
			scan.model();
			return scan.convolutions == 0 || scan.factor > 1 << 16 ? -1 : (int) scan.factor;
		}
		catch (IOException | RuntimeException e) {
			return -1;
		}
	}

	private void model() throws IOException {
		while (true) {
			long tag = varintOrEnd();
			if (tag < 0) return;
			if (tag == (7 << 3 | 2)) graph(position + length());
			else skip(tag);
		}
	}

	private void graph(long end) throws IOException {
		while (position < end) {
			long tag = varint();
			if (tag == (1 << 3 | 2)) node(position + length());
			else skip(tag);
		}
	}

	private void node(long end) throws IOException {
		String op = "";
		long stride = 1;
		while (position < end) {
			long tag = varint();
			if (tag == (4 << 3 | 2)) op = string();
			else if (tag == (5 << 3 | 2)) stride = Math.max(stride, attributeStride(position + length()));
			else skip(tag);
		}
		if (CONVOLUTIONS.contains(op)) {
			convolutions++;
			factor *= stride;
		}
	}

	/** The largest value of a {@code strides} attribute, 1 for any other attribute. */
	private long attributeStride(long end) throws IOException {
		String name = "";
		long max = 1;
		while (position < end) {
			long tag = varint();
			if (tag == (1 << 3 | 2)) name = string();
			else if (tag == (8 << 3)) max = Math.max(max, varint()); // repeated int64, unpacked (proto2)
			else if (tag == (8 << 3 | 2)) { // packed
				long stop = position + length();
				while (position < stop) max = Math.max(max, varint());
			}
			else skip(tag);
		}
		return name.equals("strides") ? max : 1;
	}

	private long length() throws IOException {
		long n = varint();
		if (n < 0) throw new IOException("negative length");
		return n;
	}

	private String string() throws IOException {
		long n = length();
		if (n > 4096) { // no op type is this long
			skipBytes(n);
			return "";
		}
		byte[] b = in.readNBytes((int) n);
		if (b.length != n) throw new EOFException();
		position += n;
		return new String(b, StandardCharsets.UTF_8);
	}

	private void skip(long tag) throws IOException {
		switch ((int) (tag & 7)) {
			case 0 -> varint();
			case 1 -> skipBytes(8);
			case 2 -> skipBytes(length());
			case 5 -> skipBytes(4);
			default -> throw new IOException("unsupported wire type " + (tag & 7));
		}
	}

	private void skipBytes(long n) throws IOException {
		long left = n;
		while (left > 0) {
			long skipped = in.skip(left);
			if (skipped <= 0) {
				if (in.read() < 0) throw new EOFException();
				skipped = 1;
			}
			left -= skipped;
		}
		position += n;
	}

	/** A varint, or −1 at the end of the file (only where a field may start). */
	private long varintOrEnd() throws IOException {
		int first = in.read();
		if (first < 0) return -1;
		position++;
		return varintFrom(first);
	}

	private long varint() throws IOException {
		int first = in.read();
		if (first < 0) throw new EOFException();
		position++;
		return varintFrom(first);
	}

	private long varintFrom(int b) throws IOException {
		long value = b & 0x7f;
		for (int shift = 7; (b & 0x80) != 0; shift += 7) {
			if (shift > 63) throw new IOException("varint too long");
			b = in.read();
			if (b < 0) throw new EOFException();
			position++;
			value |= (long) (b & 0x7f) << shift;
		}
		return value;
	}
}
