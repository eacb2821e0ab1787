package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A recorded-style Text to Image macro line naming the SDXL base micro fixture, run by ImageJ 1's interpreter. */
class SdxlMacroTest {

	@Test
	void textToImageOnSdxlBase() {
		HeadlessImageJ ij = HeadlessImageJ.shared();
		String folder = SmallModel.folder("sdxl-base").toString();
		String printed = ij.runMacro("""
			function report(key, value) { call("java.lang.System.setProperty", "sd.test.sdxl." + key, "" + value); }
			run("Text to Image...", "prompt=[a red circle] negative=[] steps=2 guidance=5 seed=8 width=64 height=48 \
			model=[""" + folder + """
			] device=cpu");
			report("size", "" + getWidth() + "x" + getHeight());
			report("info", getMetadata("Info"));
			close("*");
			""");
		assertTrue(!printed.contains("Macro Error"), printed);
		assertEquals("64x48", System.getProperty("sd.test.sdxl.size"));
		String info = System.getProperty("sd.test.sdxl.info");
		assertTrue(info.contains("Seed: 8, Size: 64x48, Model: sdxl-base"), info);
	}

	@Test
	void theRefinerKeysHandOffToTheRefiner() {
		HeadlessImageJ ij = HeadlessImageJ.shared();
		String printed = ij.runMacro("run(\"Text to Image...\", \"prompt=[a red circle] steps=4 seed=9 width=64 "
			+ "height=64 model=[" + SmallModel.folder("sdxl-base") + "] refiner=[" + SmallModel.folder("sdxl-refiner")
			+ "] refiner_switch=0.5 device=cpu\");\n"
			+ "call(\"java.lang.System.setProperty\", \"sd.test.sdxl.refined\", getMetadata(\"Info\"));\n"
			+ "close(\"*\");\n");
		assertTrue(!printed.contains("Macro Error"), printed);
		String info = System.getProperty("sd.test.sdxl.refined");
		assertTrue(info.contains("Model: sdxl-base") && info.contains("Refiner: sdxl-refiner, Refiner switch at: 0.5"),
			info);
	}
}
