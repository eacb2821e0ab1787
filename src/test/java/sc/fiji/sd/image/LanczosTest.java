package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.Test;

class LanczosTest {

	@Test
	void keepsFlatImagesAndSameSize() {
		Img<FloatType> ramp = ArrayImgs.floats(6, 5, 3);
		var c = ramp.localizingCursor();
		while (c.hasNext()) {
			c.fwd();
			c.get().set((c.getIntPosition(0) + 2 * c.getIntPosition(1) + c.getIntPosition(2)) / 20f);
		}
		Img<FloatType> same = Lanczos.resize(ramp, 6, 5);
		var a = Views.flatIterable(ramp).cursor();
		var b = Views.flatIterable(same).cursor();
		while (a.hasNext()) assertEquals(a.next().get(), b.next().get(), 1e-6);

		Img<FloatType> flat = ArrayImgs.floats(4, 4, 3);
		flat.forEach(v -> v.set(0.25f));
		for (FloatType v : Lanczos.resize(flat, 11, 7)) assertEquals(0.25f, v.get(), 1e-6);
		assertEquals(11, Lanczos.resize(flat, 11, 7).dimension(0));
	}

	@Test
	void staysInRangeAtSharpEdges() {
		Img<FloatType> edge = ArrayImgs.floats(8, 8, 3);
		var c = edge.localizingCursor();
		while (c.hasNext()) {
			c.fwd();
			c.get().set(c.getIntPosition(0) < 4 ? 0f : 1f);
		}
		for (FloatType v : Lanczos.resize(edge, 32, 32)) {
			assertEquals(true, v.get() >= 0f && v.get() <= 1f, "clamped: " + v.get());
		}
	}
}
